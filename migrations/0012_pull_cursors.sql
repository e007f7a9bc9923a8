-- Pull connectors keep one cursor per pull, so an interrupted pull continues
-- where it stopped instead of fetching (and paying for) its pages again.

CREATE TABLE ops.pull_cursors (
    connector     text NOT NULL,
    pull_key      text NOT NULL,
    cursor        jsonb NOT NULL DEFAULT '{}',
    done          boolean NOT NULL DEFAULT false,
    pages         integer NOT NULL DEFAULT 0 CHECK (pages >= 0),
    records       integer NOT NULL DEFAULT 0 CHECK (records >= 0),
    started_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector, pull_key)
);

GRANT SELECT, INSERT, UPDATE ON ops.pull_cursors TO sxe_worker;
