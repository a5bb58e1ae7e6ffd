#!/usr/bin/python3
"""The reference consumer of waljson's format version 2 with streaming
(`stream-changes`) and two-phase commit: it reassembles transactions and
hands each one over only once it has committed.

    consumer.py SLOT [DSN]     stream from SLOT with psycopg2 and print each
                               committed transaction as one JSON line

As a module: `Reassembler().feed(event)` takes the decoded JSON objects in
order and returns the transactions committed by that event (a list of
`(xid, changes)`), which `apply` plays onto a dict of tables.

The rules (README, "Streaming and two-phase commit"):
  * B..C: an ordinary transaction, whole, at its commit.
  * S..E: a block of streamed transaction `xid`; each change carries the
    (sub)transaction it was made in (`subxid`). first_segment=true starts
    the transaction afresh (a re-sent stream after a reconnect).
  * A: the streamed (sub)transaction `subxid` aborted: drop its changes
    (all of them when subxid == xid).
  * c: the streamed transaction committed: apply its buffer.
  * b..P (or blocks then p): a prepared transaction; keep its changes by
    gid until K (COMMIT PREPARED: apply) or r (ROLLBACK PREPARED: drop). A
    K or r for a gid never seen is for a PREPARE sent before this consumer
    kept state: nothing to apply (or, if you persisted it, apply that).
Needs include-xids=1 for ordinary transactions only to tidy up the
buffers of a stream re-sent whole after a reconnect.
"""
import json
import sys

ROW_EVENTS = ("I", "U", "D", "T")


class Reassembler:
    def __init__(self):
        self.streams = {}  # xid -> [(subxid, event)] of a streamed transaction
        self.block = None  # xid of the open stream block
        self.plain = None  # changes of the ordinary (or prepared) transaction being read
        self.plain_xid = None
        self.prepared = {}  # gid -> changes, until COMMIT/ROLLBACK PREPARED

    def feed(self, ev):
        a = ev["action"]
        if a in ROW_EVENTS or a == "M":
            if a == "M" and not ev["transactional"]:
                return [(None, [ev])]
            if self.block is not None:
                self.streams.setdefault(self.block, []).append((ev.get("subxid"), ev))
            elif self.plain is not None:
                self.plain.append(ev)
            else:
                raise ValueError(f"a change outside any transaction: {ev}")
            return []
        if a in ("B", "b"):
            self.plain, self.plain_xid = [], ev.get("xid")
            return []
        if a == "C":
            done, self.plain = self.plain, None
            # The same transaction may have been streamed in part before a reconnect.
            self.streams.pop(self.plain_xid, None)
            return [(self.plain_xid, done)]
        if a == "P":
            self.prepared[ev["gid"]] = self.plain
            self.plain = None
            return []
        xid = ev["xid"]
        if a == "S":
            if ev["first_segment"]:
                self.streams[xid] = []
            self.block = xid
        elif a == "E":
            self.block = None
        elif a == "A":
            sub = ev["subxid"]
            if sub == xid:
                self.streams.pop(xid, None)
            elif xid in self.streams:
                self.streams[xid] = [(s, e) for s, e in self.streams[xid] if s != sub]
        elif a == "c":
            return [(xid, [e for _, e in self.streams.pop(xid, [])])]
        elif a == "p":
            self.prepared[ev["gid"]] = [e for _, e in self.streams.pop(xid, [])]
        elif a == "K":
            changes = self.prepared.pop(ev["gid"], None)
            return [] if changes is None else [(xid, changes)]
        elif a == "r":
            self.prepared.pop(ev["gid"], None)
        else:
            raise ValueError(f"unknown action {a!r}")
        return []


def key_of(columns, names):
    values = {c["name"]: c["value"] for c in columns}
    return tuple(values[n] for n in names)


def apply(tables, changes, keys):
    """Plays committed changes onto `tables` ({table: {key: row}});
    `keys` gives each table's key column names."""
    for ev in changes:
        a = ev["action"]
        if a not in ROW_EVENTS:
            continue
        name = f'{ev["schema"]}.{ev["table"]}'
        rows = tables.setdefault(name, {})
        if a == "T":
            rows.clear()
            continue
        if a in ("U", "D") and "identity" in ev:
            rows.pop(key_of(ev["identity"], keys[name]), None)
        if a in ("I", "U"):
            row = {c["name"]: c["value"] for c in ev["columns"]}
            rows[key_of(ev["columns"], keys[name])] = row


def main():
    import psycopg2
    import psycopg2.extras

    slot = sys.argv[1]
    dsn = sys.argv[2] if len(sys.argv) > 2 else ""
    conn = psycopg2.connect(dsn, connection_factory=psycopg2.extras.LogicalReplicationConnection)
    cur = conn.cursor()
    options = {"format-version": "2", "stream-changes": "1", "include-xids": "1"}
    r = Reassembler()

    def consume(msg):
        for xid, changes in r.feed(json.loads(msg.payload)):
            print(json.dumps({"xid": xid, "changes": changes}), flush=True)
        # Confirm only what is safe to lose: here, everything handed over
        # (a real consumer confirms once it has applied or persisted it).
        msg.cursor.send_feedback(flush_lsn=msg.data_start)

    cur.start_replication(slot_name=slot, decode=True, options=options)
    cur.consume_stream(consume)


if __name__ == "__main__":
    main()
