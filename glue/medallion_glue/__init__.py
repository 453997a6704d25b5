"""Pure-Python core of the medallion Glue jobs (no pyspark / awsglue imports, except sparkio).

Shipped to Glue with --extra-py-files as medallion_glue.zip; tested with unittest in glue/tests.
"""
