"""A small attribute config in the manner of minGPT's CfgNode (our own code)."""


class CfgNode:
    """Attributes set freely; merge_from_dict sets several at once."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def merge_from_dict(self, d):
        self.__dict__.update(d)

    def to_dict(self):
        return {k: v.to_dict() if isinstance(v, CfgNode) else v for k, v in self.__dict__.items()}

    def __str__(self):
        return "\n".join(f"{k}: {v}" for k, v in self.__dict__.items())
