"""Linkage on Spark (issue 20): the linker's steps run per partition, Spark SQL between them.

Needs the optional ``spark`` dependency group (pyspark). See linkage.spark.link for the steps (stateless),
linkage.spark.incremental for the stateful, incremental path against the identity store, and docs/scale-out.md,
section "Linkage on Spark".
"""

from linkage.spark.incremental import link_incremental
from linkage.spark.link import (
                                Linked,
                                broadcast_register,
                                candidates,
                                cluster,
                                connected_components,
                                identifier_edges,
                                link,
                                link_steps,
                                register_keys,
                                score,
                                train,
)

__all__ = ["Linked", "broadcast_register", "candidates", "cluster", "connected_components", "identifier_edges",
           "link", "link_incremental", "link_steps", "register_keys", "score", "train"]
