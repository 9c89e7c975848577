# The held-out check of README's Titanic fine-tune: a seeded split of the 700 rows of
# ../shared/fixtures/datasets/titanic-train.csv into 560 to train on and 140 never seen.
#   python3 tools/default-model/titanic-split.py ../shared/fixtures/datasets/titanic-train.csv OUTDIR
import csv, os, random, sys

src, out = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(src, newline="", encoding="utf-8")))
head, body = rows[0], rows[1:]
order = list(range(len(body)))
random.Random(1).shuffle(order)
cut = len(body) * 4 // 5
os.makedirs(out, exist_ok=True)
for name, part in (("train560.csv", order[:cut]), ("heldout140.csv", order[cut:])):
    with open(os.path.join(out, name), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        for i in sorted(part):
            w.writerow(body[i])
