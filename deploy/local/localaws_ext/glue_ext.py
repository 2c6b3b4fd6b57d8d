"""Glue GetPartitions as Trino asks it. Trino sends Expression "" for no filter: AWS treats it as
none, moto refused it. And concurrency: moto parses a partition Expression with pyparsing's packrat
cache, which is not thread-safe: Trino asks for partitions from several threads at once, and one
parse in a few hundred failed as "Unsupported expression" (a 400 that failed the Athena query) though
the expression is valid and parses alone. Here parses are serialised; moto caches a parsed
expression, so after its first use the lock covers only a dictionary lookup."""
import threading

from moto.glue import utils

_lock = threading.Lock()
_original = utils._PartitionFilterExpressionCache.get


def get(self, expression):
    if expression is not None and not expression.strip():
        return None
    with _lock:
        return _original(self, expression)


def install():
    utils._PartitionFilterExpressionCache.get = get
