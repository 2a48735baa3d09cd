-- Trace id -> time range lookup, so a trace is found without scanning every partition.
-- The view aggregates per insert block: one trace id can have several rows, so readers take min(Start)/max(End).
CREATE TABLE IF NOT EXISTS {{database}}.{{traces_table}}_trace_id_ts {{on_cluster}} (
    TraceId String CODEC(ZSTD(1)),
    Start DateTime CODEC(Delta, ZSTD(1)),
    End DateTime CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = {{engine}}
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
{{ttl:toDateTime(Start)}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.{{traces_table}}_trace_id_ts_mv {{on_cluster}}
TO {{database}}.{{traces_table}}_trace_id_ts
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM {{database}}.{{traces_table}}
WHERE TraceId != ''
GROUP BY TraceId;
