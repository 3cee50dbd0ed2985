"""`flask members …`: retention and erasure jobs for the program's privacy officer."""

from flask.cli import AppGroup

members_cli = AppGroup("members", help="Member data: retention and erasure.")
