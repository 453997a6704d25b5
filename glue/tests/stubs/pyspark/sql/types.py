class StringType:
    pass


class StructField:
    def __init__(self, *args):
        self.args = args


class StructType:
    def __init__(self, fields):
        self.fields = fields
