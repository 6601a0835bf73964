"""
Usernames and emails unique in any case, and usernames in NFKC, kept by
PostgreSQL.

Rows that already break a rule stop the migration with a message that names
them (by id) and says what to change; nothing is renamed or deleted here,
because which of two accounts keeps the name is the operator's call.
"""

import django.contrib.auth.validators
import django.db.models.functions.text
from django.db import migrations, models

import accounts.validators

# (what is wrong, SQL returning one row per offending group: a label, its ids)
PROBLEMS = (
    (
        "share a username but for case",
        "SELECT lower(username), array_agg(id ORDER BY id) FROM accounts_user"
        " GROUP BY lower(username) HAVING count(*) > 1",
    ),
    (
        "share an email address but for case",
        "SELECT lower(email), array_agg(id ORDER BY id) FROM accounts_user"
        " WHERE email <> '' GROUP BY lower(email) HAVING count(*) > 1",
    ),
    (
        "have a username that is not in NFKC form",
        "SELECT username, array_agg(id) FROM accounts_user"
        " WHERE username IS NOT NFKC NORMALIZED GROUP BY username",
    ),
)


def refuse_rows_that_break_the_rules(apps, schema_editor):
    found = []
    with schema_editor.connection.cursor() as cursor:
        for what, sql in PROBLEMS:
            cursor.execute(sql)
            found += [
                f"  users {', '.join(map(str, ids))} {what} ({label!r})"
                for label, ids in cursor.fetchall()
            ]
    if found:
        raise RuntimeError(
            "accounts.0003 cannot make usernames and emails unique in any case:\n"
            + "\n".join(found)
            + "\nChange the username or email of all but one user of each group "
            "(python manage.py shell, or the admin), or the username to its NFKC "
            "form (unicodedata.normalize('NFKC', name)), then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_email_verification"),
    ]

    operations = [
        migrations.RunPython(
            refuse_rows_that_break_the_rules, migrations.RunPython.noop
        ),
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                error_messages={"unique": "A user with that username already exists."},
                help_text="Required. 150 characters or fewer. Letters of one script, digits and @/./+/-/_ only.",
                max_length=150,
                unique=True,
                validators=[
                    django.contrib.auth.validators.UnicodeUsernameValidator(),
                    accounts.validators.validate_single_script,
                ],
                verbose_name="username",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_code="username_taken",
                violation_error_message="A user with that username already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="accounts_user_email_ci_unique",
                violation_error_code="email_taken",
                violation_error_message="A user with that email address already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "username",
                        models.Func(
                            models.F("username"),
                            output_field=models.CharField(),
                            template="normalize(%(expressions)s, NFKC)",
                        ),
                    )
                ),
                name="accounts_user_username_nfkc",
                violation_error_code="username_not_nfkc",
                violation_error_message="Usernames are stored in NFKC form.",
            ),
        ),
    ]
