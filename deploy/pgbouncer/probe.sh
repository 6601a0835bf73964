#!/bin/bash
# keel-pgbouncer's probe: PgBouncer accepts connections on its port.
exec 3<>/dev/tcp/127.0.0.1/6432
