"""Local stand-in for the part of AWS Glue's `awsglue` library the job scripts use (see ../README.md)."""
