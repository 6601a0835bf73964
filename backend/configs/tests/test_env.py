from configs.env import RENAMED, Env


def test_a_renamed_variable_is_refused_with_its_new_name():
    env = Env({"DJANGO_ALLOW_REGISTRATION": "1", "KEEL_API_DOCS": "0"})
    env.refuse_renamed(RENAMED)
    assert env.problems == [
        "DJANGO_ALLOW_REGISTRATION was renamed KEEL_ALLOW_REGISTRATION: rename it "
        "where it is set (see CHANGELOG.md)."
    ]


def test_an_environment_with_only_new_names_has_no_rename_problem():
    env = Env({new: "1" for new in RENAMED.values()})
    env.refuse_renamed(RENAMED)
    assert env.problems == []
