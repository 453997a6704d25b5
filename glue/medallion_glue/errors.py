"""One error family for the Glue jobs, named like the TypeScript side (shared/domain/errors.ts)."""


class MedallionJobError(Exception):
    """Base class: every job failure we raise on purpose. `retryable` says if a re-run could help."""

    retryable = False

    def __init__(self, message: str):
        super().__init__(message)
        self.name = type(self).__name__

    def __str__(self) -> str:
        return f"{self.name}: {super().__str__()}"


class JobArgumentError(MedallionJobError):
    """A job argument (--name) is missing, malformed or inconsistent with the others."""


class DatasetPlanError(MedallionJobError):
    """The compiled dataset plan (--dataset_plan) is unreadable or breaks its contract."""


class LandingDataError(MedallionJobError):
    """Landing files cannot be ingested as they are (unknown format, bad header, corrupt records)."""


class StageContractError(MedallionJobError):
    """A stage's result breaks the contract (rows lost or invented, a missing column...)."""


class ManifestError(MedallionJobError):
    """A run manifest does not satisfy the manifest contract (shared/domain/manifest.ts)."""


class StorageError(MedallionJobError):
    """Reading or writing an object (s3:// or file://) failed."""

    retryable = True
