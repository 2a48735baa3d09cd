-- Highest bus offset per (exporter, topic, partition) included in an insert, recorded before the insert.
-- After a restart, redelivered messages at or below it may already be stored and are checked row by row.
-- ReplacingMergeTree keeps the highest offset per key; readers still take max() as merges are lazy.
CREATE TABLE IF NOT EXISTS {{database}}.agentotel_export_progress {{on_cluster}} (
    exporter LowCardinality(String),
    topic LowCardinality(String),
    partition Int32,
    max_offset Int64,
    ts DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(max_offset)
ORDER BY (exporter, topic, partition);
