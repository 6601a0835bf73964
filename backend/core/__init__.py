"""
keel's infrastructure, shared by every app: probes, the error shape, the schema,
pagination, fields, request middleware, logging, system checks and deployment
commands. It imports Django, DRF and their libraries, never another keel app.
"""
