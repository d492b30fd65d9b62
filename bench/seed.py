#!/usr/bin/env python3
"""Writes CSV files for COPY: accounts, pipelines, stages, deals and interactions of one
tenant. Ids are deterministic and valid Nucleo ids (prefix + 26 Crockford characters:
the row number, zero-padded), so pgbench and wrk can address row n without a lookup."""
import argparse, csv, os, random

def rid(prefix, n):
    return f"{prefix}_{n:026d}"

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tenant", required=True)
    p.add_argument("--accounts", type=int, default=100_000)
    p.add_argument("--deals", type=int, default=300_000)
    p.add_argument("--interactions", type=int, default=1_000_000)
    p.add_argument("--lots", type=int, default=300_000)  # a plugin resource's documents (bench/plugins)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    random.seed(7)
    now = 1_782_864_000_000_000  # 2026-07-01T00:00:00Z in µs
    t = a.tenant
    words = ["Agro", "Fazenda", "Cooperativa", "Sementes", "João", "Ação", "Pecuária", "Café", "Grãos", "Rural"]

    def write(name, rows):
        with open(os.path.join(a.out, name + ".csv"), "w", newline="") as f:
            csv.writer(f).writerows(rows)

    write("pipelines", [[rid("pipe", 1), t, "Vendas", "{}", 1, now, now]])
    write("stages", [[rid("stg", i), t, rid("pipe", 1), f"Stage {i}", i, i * 10, "open", 30, "[]", "[]", 1, now, now]
                     for i in range(1, 6)])
    write("accounts", [[rid("acc", i), t, f"{random.choice(words)} {random.choice(words)} {i} Ltda", "lead", "BR",
                        "[]", "[]", "{}", 1, now + i, now + i] for i in range(1, a.accounts + 1)])
    write("deals", [[rid("deal", i), t, f"Deal {i}", rid("acc", 1 + (i - 1) % a.accounts), "[]", rid("pipe", 1),
                     rid("stg", 1 + i % 5), 100_000 + i, "BRL", "open", now, "{}", 1, now + i, now + i]
                    for i in range(1, a.deals + 1)])
    with open(os.path.join(a.out, "interactions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for i in range(1, a.interactions + 1):
            w.writerow([rid("int", i), t, random.choice(["call", "email", "whatsapp", "visit"]), "outbound",
                        "whatsapp", now - i * 1000, f"Interaction {i}", rid("acc", 1 + (i - 1) % a.accounts), "{}",
                        1, now + i, now + i])

    # The bench plugin's "lots" resource: documents and their index rows, as the record
    # store writes them; three per account, like deals.
    plugin, collection = "org.nucleo.bench.host-call", "lots"
    with open(os.path.join(a.out, "lots.csv"), "w", newline="") as docs, \
         open(os.path.join(a.out, "lot_index.csv"), "w", newline="") as index:
        d, x = csv.writer(docs), csv.writer(index)
        for i in range(1, a.lots + 1):
            account, hectares = rid("acc", 1 + (i - 1) % a.accounts), 1 + i % 1000
            document = f'{{"account_id":"{account}","crop":"soja","hectares":{hectares},"season":"2026/27"}}'
            d.writerow([t, plugin, collection, rid("lot", i), document, 1, now + i, now + i])
            x.writerow([t, plugin, collection, rid("lot", i), "account_id", None, account])
            x.writerow([t, plugin, collection, rid("lot", i), "hectares", hectares, None])

if __name__ == "__main__":
    main()
