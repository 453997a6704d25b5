"""getResolvedOptions as AWS Glue defines it (awslabs/aws-glue-libs, awsglue/utils.py and the option
lists of awsglue/job.py): the same parser, the same reserved options, the same errors, so a script that
parses its arguments here parses them the same way on Glue. Re-implemented (not copied) without the
JVM-backed parts of the library."""

import argparse

# awsglue.job.Job's option lists.
JOB_BOOKMARK_OPTIONS = ["--job-bookmark-option", "job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"]
CONTINUATION_OPTIONS = ["--continuation-option", "continuation-enabled", "continuation-readonly", "continuation-ignore"]
JOB_BOOKMARK_RANGE_OPTIONS = ["--job-bookmark-from", "--job-bookmark-to"]
ID_PARAMS = ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]
ENCRYPTION_TYPE_OPTIONS = ["--encryption-type", "sse-s3"]
DATA_LINEAGE_OPTIONS = ["--enable-data-lineage"]


class GlueArgumentError(Exception):
    pass


class GlueArgumentParser(argparse.ArgumentParser):
    """Raises instead of printing usage and exiting, as Glue's parser does."""

    def error(self, message):
        raise GlueArgumentError(message)


def getResolvedOptions(args, options, allow_abbrev=False):
    parser = GlueArgumentParser(allow_abbrev=allow_abbrev)

    if CONTINUATION_OPTIONS[0][2:] in options:
        raise RuntimeError("Using reserved arguments " + CONTINUATION_OPTIONS[0][2:])
    if JOB_BOOKMARK_OPTIONS[0][2:] in options:
        raise RuntimeError("Using reserved arguments " + JOB_BOOKMARK_OPTIONS[0][2:])
    parser.add_argument(JOB_BOOKMARK_OPTIONS[0], choices=JOB_BOOKMARK_OPTIONS[1:], required=False)
    parser.add_argument(CONTINUATION_OPTIONS[0], choices=CONTINUATION_OPTIONS[1:], required=False)

    for option in JOB_BOOKMARK_RANGE_OPTIONS:
        if option[2:] in options:
            raise RuntimeError("Using reserved arguments " + option)
        parser.add_argument(option, required=False)

    # Glue's own ids (not JOB_NAME) are optional and returned without being asked for. As in Glue, the
    # reserved-name check compares '--JOB_RUN_ID' with the bare names, so asking for JOB_RUN_ID is not
    # caught there: argparse then refuses the duplicate option.
    for option in ID_PARAMS[1:]:
        if option in options:
            raise RuntimeError("Using reserved arguments " + option)
        parser.add_argument(option, required=False)

    if ENCRYPTION_TYPE_OPTIONS[0] in options:
        raise RuntimeError("Using reserved arguments " + ENCRYPTION_TYPE_OPTIONS[0])
    parser.add_argument(ENCRYPTION_TYPE_OPTIONS[0], choices=ENCRYPTION_TYPE_OPTIONS[1:])

    if DATA_LINEAGE_OPTIONS[0] in options:
        raise RuntimeError("Using reserved arguments " + DATA_LINEAGE_OPTIONS[0])
    parser.add_argument(DATA_LINEAGE_OPTIONS[0], required=False)

    options = [opt for opt in options if opt not in {"RedshiftTempDir", "TempDir"}]
    parser.add_argument("--RedshiftTempDir", required=False)
    parser.add_argument("--TempDir", required=False)

    for option in options:
        parser.add_argument("--" + option, required=True)

    parsed, _extra = parser.parse_known_args(args[1:])
    parsed_dict = vars(parsed)

    if parsed_dict.get("TempDir") is not None:
        parsed_dict["RedshiftTempDir"] = parsed_dict["TempDir"]
    elif parsed_dict.get("RedshiftTempDir") is not None:
        parsed_dict["TempDir"] = parsed_dict["RedshiftTempDir"]

    bookmark_value = parsed_dict.pop("continuation_option", None)
    if parsed_dict.get("job_bookmark_option") is None:
        if bookmark_value is None:
            bookmark_value = JOB_BOOKMARK_OPTIONS[3]
        else:
            bookmark_value = JOB_BOOKMARK_OPTIONS[CONTINUATION_OPTIONS.index(bookmark_value)]
        parsed_dict["job_bookmark_option"] = bookmark_value

    absent_range = [o for o in JOB_BOOKMARK_RANGE_OPTIONS if parsed_dict.get(o[2:].replace("-", "_")) is None]
    if parsed_dict["job_bookmark_option"] == "job-bookmark-pause":
        if len(absent_range) == 1:
            raise RuntimeError("Missing option or value for " + absent_range[0])
    elif len(absent_range) == 0:
        raise RuntimeError("Invalid option(s)" + " ".join(JOB_BOOKMARK_RANGE_OPTIONS))

    return parsed_dict
