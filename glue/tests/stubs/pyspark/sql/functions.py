def __getattr__(name):
    raise RuntimeError("pyspark stub: no Spark on this machine")
