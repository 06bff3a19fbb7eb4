"""Linkage on Spark: the steps of linkage.pipeline.link, with Spark SQL doing the joins and groupings between
them and the linker's own pandas functions (linkage.spark.workers) doing the work inside each partition.

    prepare      linkage.prepare.prepare_register on the driver, broadcast (the register is reference data,
                 prepared once; linkage.register_cache keeps it between runs)
    train        resolve_model: the model given (learned parameters are data), else EM on a driver sample
    candidates   contact keys (mapInPandas) joined to the register's keys in Spark SQL
    score        mapInPandas: standardise + linkage.predict.match_batch on each contact's candidates
    cluster      identifier edges (contact_edges per (kind, value) partition), connected components in Spark
                 SQL (iterative min-label), then cluster_contacts + explain per group of whole components
                 (cogroup applyInPandas)

Same inputs, same outputs as the DuckDB/pandas path for a stateless run (``tests/spark/test_linkage_spark.py``
holds the two to equality). That is the stateless path; the stateful one (the identity store: incremental runs,
review decisions, remembered identifiers, the refused-edge audit) is linkage.spark.incremental.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd

from linkage.cluster import CONTACT_EDGE_KINDS
from linkage.model import Model
from linkage.pipeline import TRAINING_SAMPLE, Decisions, resolve_model
from linkage.prepare import PreparedRegister, prepare_register
from linkage.settings import LinkSettings, load_settings
from linkage.spark import workers
from linkage.spark.workers import SharedRegister
from linkage.state import load_state

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MAX_ITERATIONS = 60  # connected components settle in about log2(longest chain) rounds: more means a bug


def broadcast_register(spark: SparkSession, reg: PreparedRegister) -> SharedRegister:
    """The prepared register for every worker, sent once per executor by Spark's broadcast (not per task).
    Without its join index: workers score given pairs and never block."""
    return SharedRegister(uuid.uuid4().hex, spark.sparkContext.broadcast(dataclasses.replace(reg)))


def register_keys(spark: SparkSession, reg: PreparedRegister) -> DataFrame:
    """The register side of every blocking rule (linkage.blocking.RegisterIndex.tables) as (tbl, key, reg_pos):
    the same capped blocks and hashed keys candidate_pairs joins against."""
    parts = [pd.DataFrame({"tbl": name, "key": ki.keys.view("int64"), "reg_pos": ki.rows.astype("int64")})
             for name, ki in reg.index().tables().items() if len(ki.keys)]
    return spark.createDataFrame(pd.concat(parts, ignore_index=True), "tbl string, key long, reg_pos long")


def candidates(spark: SparkSession, reg_keys: DataFrame, contacts: DataFrame, reg: SharedRegister,
               settings: LinkSettings) -> DataFrame:
    """(contact_id, reg_pos): every candidate pair, as linkage.blocking.candidate_pairs finds them. Keys are
    built on both sides by the linker's own functions and joined in Spark SQL on (table, key); pairs met only
    through a bare handle must be one account, checked per partition."""
    # checkpointed: the join below is read twice (plain pairs, handle pairs), and standardising is the costly part
    keys = contacts.mapInPandas(partial(workers.contact_keys, reg=reg, settings=settings),
                                workers.KEYS_SCHEMA).localCheckpoint()
    keys.createOrReplaceTempView("jl_contact_keys")
    reg_keys.createOrReplaceTempView("jl_register_keys")
    met = spark.sql("""
        select c.contact_id, r.reg_pos, c.tbl, c.handle
        from jl_contact_keys c join jl_register_keys r on c.tbl = r.tbl and c.key = r.key""")
    plain = met.where("tbl <> 'handles'").select("contact_id", "reg_pos")
    by_handle = met.where("tbl = 'handles'").select("contact_id", "reg_pos", "handle").mapInPandas(
        partial(workers.same_account_pairs, reg=reg), workers.PAIRS_SCHEMA)
    return plain.unionByName(by_handle).distinct()


def score(contacts: DataFrame, pairs: DataFrame, reg: SharedRegister, model: Model, settings: LinkSettings,
          decisions: Decisions | None = None) -> DataFrame:
    """One row per contact (workers.SCORED_SCHEMA): its best candidate, decision and explanation. Each contact
    arrives with all its candidates, so match_batch picks the best per contact inside the partition.
    decisions: the review decisions in force (a stateful run's), which match_batch applies as on the pandas path;
    they are few, and travel with each task."""
    decisions = decisions or Decisions()
    cands = pairs.groupBy("contact_id").agg({"reg_pos": "collect_list"}).withColumnRenamed(
        "collect_list(reg_pos)", "cands")
    columns = contacts.columns
    fn = partial(workers.score, reg=reg, model=model, settings=settings, columns=columns,
                 cannot=decisions.cannot_link, must=decisions.must_link)
    return contacts.join(cands, "contact_id", "left").mapInPandas(fn, workers.SCORED_SCHEMA)


def identifier_edges(spark: SparkSession, scored: DataFrame, reg: SharedRegister, settings: LinkSettings) -> DataFrame:
    """Accepted contact-to-contact edges (workers.EDGES_SCHEMA): each (kind, value) with all its carriers in one
    partition, judged and chained by linkage.cluster.contact_edges."""
    scored.createOrReplaceTempView("jl_scored")
    carriers = spark.sql(" union all ".join(
        f"select contact_id, given, given_canon, family, dob, '{k}' as kind, {k} as value "
        f"from jl_scored where {k} is not null" for k in CONTACT_EDGE_KINDS))
    return carriers.repartition("kind", "value").mapInPandas(
        partial(workers.identifier_edges, reg=reg, settings=settings), workers.EDGES_SCHEMA)


def connected_components(spark: SparkSession, edges: DataFrame) -> DataFrame:
    """(node, component) for every node of `edges` (columns a, b): component is the smallest node id of its
    connected component.

    Iterative min-label in Spark SQL, as Splink's connected_components does: the nodes sharing a label act as
    one group, and each round every group takes the smallest label among its members' neighbours ("rep_updates"
    in Splink), then each node the label of its label (pointer jumping). Plain neighbour-to-neighbour
    propagation needs as many rounds as the longest chain is long; with groups merging, the number of labels
    shrinks geometrically, so a chain of n contacts settles in about log n rounds. A label is always a node of
    the component and never grows, so the fixed point (no label changes) is the component's smallest node.

    Each round's labels are written to Parquet and read back (Splink's ``break_lineage_method="parquet"``), in
    a scratch folder under the warehouse that is removed at the end. ``localCheckpoint`` per round was not
    enough: on a 20,000-node chain the driver ran out of heap while planning a later round (an OutOfMemoryError
    in statistics estimation), where the Parquet round trip settles it in about 40 s."""
    scratch = f"{spark.conf.get('spark.sql.warehouse.dir').rstrip('/')}/_linkage_cc_{uuid.uuid4().hex}"
    try:
        edges.select("a", "b").createOrReplaceTempView("jl_cc_edges")
        neighbours = _break_lineage(spark, spark.sql("""
            select a as node, b as nbr from jl_cc_edges union select b as node, a as nbr from jl_cc_edges
        """), f"{scratch}/neighbours")
        neighbours.createOrReplaceTempView("jl_cc_neighbours")
        labels = _break_lineage(spark, spark.sql(
            "select node, least(node, min(nbr)) as label from jl_cc_neighbours group by node"), f"{scratch}/0")
        for round_ in range(1, MAX_ITERATIONS + 1):
            labels.createOrReplaceTempView("jl_cc_labels")
            new = _break_lineage(spark, spark.sql("""
                with group_min as (
                    select l.label as rep, min(r.label) as label
                    from jl_cc_neighbours n join jl_cc_labels l on l.node = n.node
                    join jl_cc_labels r on r.node = n.nbr
                    group by l.label),
                hooked as (
                    select l.node, least(l.label, g.label) as label
                    from jl_cc_labels l join group_min g on g.rep = l.label)
                select h.node, least(h.label, j.label) as label from hooked h join hooked j on j.node = h.label
            """), f"{scratch}/{round_}")
            new.createOrReplaceTempView("jl_cc_new")
            changed = spark.sql(
                "select count(*) as n from jl_cc_new n join jl_cc_labels l using (node) where n.label <> l.label"
            ).collect()[0]["n"]
            labels = new
            if changed == 0:
                # kept in memory, so the scratch folder can go
                return labels.withColumnRenamed("label", "component").localCheckpoint()
        raise RuntimeError(f"connected components did not settle in {MAX_ITERATIONS} rounds")
    finally:
        path = spark._jvm.org.apache.hadoop.fs.Path(scratch)
        path.getFileSystem(spark._jsc.hadoopConfiguration()).delete(path, True)


def _break_lineage(spark: SparkSession, df: DataFrame, path: str) -> DataFrame:
    """`df` as a fresh Parquet scan: the next round plans against files, not against every earlier round."""
    df.write.parquet(path)
    return spark.read.parquet(path)


def cluster(spark: SparkSession, scored: DataFrame, edges: DataFrame, components: DataFrame, reg: SharedRegister,
            settings: LinkSettings) -> DataFrame:
    """Persons under merge protection, explained (OUTPUT_COLUMNS): the components of the edge graph
    (connected_components) are hashed into groups, and each group's whole components are clustered together on
    a worker (see workers.cluster_group for why that is the global answer). Contacts with no edge are their own
    component."""
    groups = int(spark.conf.get("spark.sql.shuffle.partitions"))
    components.createOrReplaceTempView("jl_components")
    scored.createOrReplaceTempView("jl_scored")
    edges.createOrReplaceTempView("jl_edges")
    nodes = spark.sql(f"""
        select s.*, pmod(hash(coalesce(c.component, s.contact_id)), {groups}) as grp
        from jl_scored s left join jl_components c on c.node = s.contact_id""")
    grouped_edges = spark.sql(f"""
        select e.*, pmod(hash(c.component), {groups}) as grp
        from jl_edges e join jl_components c on c.node = e.a""")
    fn = partial(_cluster_cogroup, reg=reg, settings=settings)
    return nodes.groupBy("grp").cogroup(grouped_edges.groupBy("grp")).applyInPandas(fn, workers.OUTPUT_SCHEMA)


def _cluster_cogroup(nodes: pd.DataFrame, edges: pd.DataFrame, reg: SharedRegister, settings: LinkSettings
                     ) -> pd.DataFrame:
    """cogroup's calling convention (two frames) onto workers.cluster_group."""
    if nodes.empty:
        return pd.DataFrame(columns=[f.split()[0] for f in workers.OUTPUT_SCHEMA.split(", ")])
    return workers.cluster_group(nodes, edges, reg, settings)


def train(spark: SparkSession, reg: PreparedRegister, contacts: DataFrame, model: Model | None,
          settings: LinkSettings, seed: int = 0) -> Model:
    """The model given, else one trained without labels on a driver sample of at most TRAINING_SAMPLE contacts
    (linkage.pipeline.resolve_model, the pandas path's EM): EM on 50,000 contacts fits in one process, and
    learned parameters are data that the scoring workers receive with their task."""
    if model is not None:
        return model
    n = contacts.count()
    sample = contacts if n <= TRAINING_SAMPLE else contacts.sample(fraction=min(1.0, 1.2 * TRAINING_SAMPLE / n),
                                                                  seed=seed).limit(TRAINING_SAMPLE)
    return resolve_model(reg, sample.toPandas(), None, load_state(None), settings)


@dataclass(frozen=True)
class Linked:
    """What each step of a Spark link produced (checkpointed), for a caller or a test that inspects the steps."""

    scored: DataFrame  # workers.SCORED_SCHEMA, one row per contact
    edges: DataFrame  # workers.EDGES_SCHEMA, accepted contact-to-contact identifier edges
    components: DataFrame  # (node, component) for every contact with an edge
    decisions: DataFrame  # linkage.pipeline.OUTPUT_COLUMNS, one row per contact


def link_steps(spark: SparkSession, register: pd.DataFrame | PreparedRegister, contacts: DataFrame,
               model: Model | None = None, settings: LinkSettings | None = None) -> Linked:
    """link(), keeping every step's result."""
    settings = settings or load_settings()
    # taught on the driver too: training standardises its sample here
    reg = register.teach_lexicon() if isinstance(register, PreparedRegister) else prepare_register(register, settings)
    if "occurred_at" in contacts.columns:
        contacts = contacts.withColumn("occurred_at", contacts["occurred_at"].cast("string"))
    mdl = train(spark, reg, contacts, model, settings)
    reg_bc = broadcast_register(spark, reg)
    pairs = candidates(spark, register_keys(spark, reg), contacts, reg_bc, settings)
    scored = score(contacts, pairs, reg_bc, mdl, settings).localCheckpoint()
    edges = identifier_edges(spark, scored, reg_bc, settings).localCheckpoint()
    components = connected_components(spark, edges)
    decisions = cluster(spark, scored, edges, components, reg_bc, settings).localCheckpoint()
    return Linked(scored, edges, components, decisions)


def link(spark: SparkSession, register: pd.DataFrame | PreparedRegister, contacts: DataFrame,
         model: Model | None = None, settings: LinkSettings | None = None) -> DataFrame:
    """Link contacts (a Spark DataFrame: ``contact_id`` + contact columns) to register citizens or pseudonymous
    persons: one row per contact with linkage.pipeline.OUTPUT_COLUMNS, as linkage.pipeline.link gives for a
    stateless run. The result is checkpointed: reading it again does not score again.

    model: the model to score with (what the pandas path trained and saved: learned parameters are data);
    None trains one on a driver sample (train). Contacts sharing an identifier and a name are chained in
    contact_id order; the pandas path chains them in input order, so the two agree on contacts sorted by id."""
    return link_steps(spark, register, contacts, model, settings).decisions
