#!/usr/bin/env bash
# Compare medguard's full software verification with `find | xargs
# sha256sum` and `aide --check` (sha256 only) on the same generated tree,
# warm, in one run, next to the SHA-256 limit of this machine measured in
# the same run. Also times the verification of a 200 MB tree (the boot
# target) and, if IDLE_RUN is set (e.g. IDLE_RUN=10m), the CPU used by the
# continuous re-hash while idle.
#
# The tree lives outside the repository (BENCH_DIR, default
# /var/tmp/medguard-bench) and is reused between runs. Run by `make bench`,
# never by `make check`.
#
#   SIZE_MB=1200 scripts/bench-integrity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:-/var/tmp/medguard-bench}
SIZE_MB=${SIZE_MB:-1200}
RUNS=${RUNS:-3}
mkdir -p "$DIR"
export MEDGUARD_RELEASE_PASSPHRASE=bench-only-passphrase

command -v aide >/dev/null || { echo "aide not found: apt-get install aide" >&2; exit 2; }

# gen DIR MB: many files of mixed sizes (1 KiB to 4 MiB), random content.
gen() {
  python3 - "$1" "$2" <<'PY'
import os, random, sys
root, mb = sys.argv[1], int(sys.argv[2])
random.seed(5)
sizes = [1<<10, 4<<10, 16<<10, 64<<10, 256<<10, 1<<20, 4<<20]
weights = [30, 25, 20, 12, 8, 4, 1]
block = os.urandom(8<<20)
total, i = 0, 0
while total < mb << 20:
    sz = random.choices(sizes, weights)[0]
    d = os.path.join(root, "d%03d" % (i % 200), "s%02d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    off = random.randrange(0, len(block) - sz)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(block[off:off+sz] + i.to_bytes(8, "little"))
    total += sz; i += 1
print("%d files, %d MB" % (i, total >> 20))
PY
}

if [ ! -f "$DIR/tree.done" ] || [ "$(cat "$DIR/tree.done")" != "$SIZE_MB" ]; then
  rm -rf "$DIR/tree"; echo "generating a $SIZE_MB MB tree in $DIR/tree …"; gen "$DIR/tree" "$SIZE_MB"; echo "$SIZE_MB" > "$DIR/tree.done"
fi
if [ ! -f "$DIR/boot.done" ]; then
  rm -rf "$DIR/boot"; gen "$DIR/boot" 200; touch "$DIR/boot.done"
fi

go build -o "$DIR/medguard" ./cmd/medguard
go test -c -o "$DIR/integrity.test" ./internal/integrity/
MG="$DIR/medguard"
# limit: raw SHA-256 on all cores, in MB/s, measured for 1 s.
limit() { "$DIR/integrity.test" -test.run '^$' -test.bench '^BenchmarkSHA256Limit$' -test.benchtime 1s | awk '/MB\/s/ {print $(NF-1)}'; }
rm -f "$DIR"/k.key "$DIR"/k.pub "$DIR"/m.json "$DIR"/boot.json
"$MG" release keygen --work-factor 12 --out "$DIR/k.key" --pub "$DIR/k.pub" >/dev/null 2>&1
"$MG" release manifest --key "$DIR/k.key" --product bench --version 1 --security-version 1 --out "$DIR/m.json" "$DIR/tree" 2>/dev/null
"$MG" release manifest --key "$DIR/k.key" --product bench --version 1 --security-version 1 --out "$DIR/boot.json" "$DIR/boot" 2>/dev/null

cat > "$DIR/aide.conf" <<CONF
database_in=file:$DIR/aide.db
database_out=file:$DIR/aide.db.new
gzip_dbout=no
report_url=stdout
SHAONLY = p+u+g+s+sha256
$DIR/tree SHAONLY
CONF
aide --config "$DIR/aide.conf" --init >/dev/null 2>&1 || true
mv "$DIR/aide.db.new" "$DIR/aide.db"

files=$(find "$DIR/tree" -type f | wc -l)
bytes=$(du -sb "$DIR/tree" | cut -f1)

# best RUNS wall-clock seconds of a command (after one warm-up run).
best() {
  local b=999999 t s e
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l); if (( $(echo "$t < $b" | bc -l) )); then b=$t; fi
  done
  echo "$b"
}
# The limit is measured right before and after medguard's runs (on a shared
# machine the load changes from minute to minute); the ratio uses their mean.
l1=$(limit)
t_mg=$(best "$MG" manifest verify --key "$DIR/k.pub" "$DIR/tree" "$DIR/m.json")
l2=$(limit)
"$MG" manifest verify --key "$DIR/k.pub" "$DIR/tree" "$DIR/m.json" >/dev/null || { echo "medguard verify failed" >&2; exit 1; }
t_sum=$(best bash -c "find '$DIR/tree' -type f -print0 | xargs -0 sha256sum")
t_aide=$(best aide --config "$DIR/aide.conf" --check)
t_boot=$(best "$MG" manifest verify --key "$DIR/k.pub" "$DIR/boot" "$DIR/boot.json")
limit=$(echo "scale=1; ($l1 + $l2) / 2" | bc -l)

mbs() { echo "scale=0; $bytes / 1000000 / $1" | bc -l; }
echo
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tree: $files files, $((bytes / 1000000)) MB (warm page cache); best of $RUNS"
echo "SHA-256 limit x $(nproc) cores (Go, around medguard's runs): $limit MB/s ($l1 before, $l2 after)"
printf '%-34s %8s s %8s MB/s\n' "medguard manifest verify" "$t_mg" "$(mbs "$t_mg")"
printf '%-34s %8s s %8s MB/s\n' "find | xargs sha256sum" "$t_sum" "$(mbs "$t_sum")"
printf '%-34s %8s s %8s MB/s\n' "aide --check (sha256)" "$t_aide" "$(mbs "$t_aide")"
echo "medguard / aide: $(echo "scale=2; $t_aide / $t_mg" | bc -l)x; medguard / sha256sum: $(echo "scale=2; $t_sum / $t_mg" | bc -l)x; medguard / limit: $(echo "scale=2; $(mbs "$t_mg") / $limit" | bc -l)"
/usr/bin/time -o "$DIR/cpu" -f "%U %S" "$MG" manifest verify --key "$DIR/k.pub" "$DIR/tree" "$DIR/m.json" >/dev/null 2>&1
cpu=$(tail -1 "$DIR/cpu")
echo "medguard CPU for one verification: user $(echo "$cpu" | cut -d' ' -f1) s (hashing), sys $(echo "$cpu" | cut -d' ' -f2) s (open, stat, read copies)"
echo "boot verification of a 200 MB tree (process start, signature, $(find "$DIR/boot" -type f | wc -l) files): $t_boot s"

if [ -n "${IDLE_RUN:-}" ]; then
  MEDGUARD_IDLE_RUN=$IDLE_RUN MEDGUARD_IDLE_MB=${IDLE_MB:-200} go test -count=1 -run '^TestIdleRehashCPU$' -v -timeout 2h ./internal/integrity/ | grep 'idle monitor'
fi
