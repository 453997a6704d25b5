"""Mimics awsglue.utils.getResolvedOptions: Glue's own ids are optional, asked-for options required,
unknown arguments ignored."""

import argparse


def getResolvedOptions(args, options):
    parser = argparse.ArgumentParser()
    for reserved in ("--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID"):
        parser.add_argument(reserved, required=False)
    for option in options:
        parser.add_argument("--" + option, required=True)
    parsed, _ = parser.parse_known_args(args[1:])
    return vars(parsed)
