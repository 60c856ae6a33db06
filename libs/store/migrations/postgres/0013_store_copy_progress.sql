-- Where a copy of another store into this database (`memvox migrate-store`) stands: one row per
-- step (a table, or a pass over some of its columns), the source key after which its next batch
-- starts and the rows copied so far. Written in the transaction of each batch, so an interrupted
-- copy resumes after its last committed batch; emptied once the copy is verified. Empty in every
-- database that is not the destination of an unfinished copy.
CREATE TABLE store_copy_progress (
    step     TEXT PRIMARY KEY,
    cursor   TEXT,
    copied   BIGINT NOT NULL DEFAULT 0,
    finished BIGINT NOT NULL DEFAULT 0
);
