#!/usr/bin/env bash
# Whole-process speed of `pipesim run` against the bare M/M/1 loop (benches/bare_mm1.rs), on the
# same queue (M/M/1, ρ = 0.9), alternating A B A B pinned to one core, so that a noisy machine
# hits both alike. Prints each round and the min/median/max of
#   (pipesim customers per wall second) / (bare loop customers per wall second),
# and the same ratio of CPU seconds (user + system), which a busy neighbour disturbs less.
#
#   benches/bare_ratio.sh [RATE_PER_S=900000] [CUSTOMERS=10000000] [ROUNDS=5] [-- PIPESIM_ARGS...]
#
# e.g. `benches/bare_ratio.sh 900 10000000 5 -- --charts none`.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-900000}
customers=${2:-10000000}
rounds=${3:-5}
shift $(( $# < 3 ? $# : 3 ))
[ "${1:-}" = "--" ] && shift
cpu=${PIN_CPU:-1}

cargo build --release --quiet --bin pipesim
cargo build --release --quiet --bench bare_mm1
bare=$(ls -t target/release/deps/bare_mm1-* | grep -v '\.d$' | head -1)
pipesim=target/release/pipesim

# Service mean ρ / rate and duration customers / rate, in whole nanoseconds.
service_ns=$(awk -v r="$rate" 'BEGIN { printf "%.0f", 0.9e9 / r }')
duration_ns=$(awk -v r="$rate" -v n="$customers" 'BEGIN { printf "%.0f", n * 1e9 / r }')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now_ns() { date +%s%N; }
cpu_s() { awk '{ print $1 + $2 }' "$1"; }
ratios=()
cpu_ratios=()
for round in $(seq 1 "$rounds"); do
    t0=$(now_ns)
    /usr/bin/time -f '%U %S' -o "$out/cpu_pipesim" \
        taskset -c "$cpu" "$pipesim" run scenarios/bench/mm1_ratio.toml --out "$out/run" --quiet \
        --set "workload.rate=${rate}/s" --set "duration=${duration_ns}ns" \
        --set "model[0].station[0].service={ dist = \"exp\", mean = \"${service_ns}ns\" }" \
        "$@" > /dev/null 2> "$out/stderr" || { cat "$out/stderr"; exit 1; }
    t1=$(now_ns)
    /usr/bin/time -f '%U %S' -o "$out/cpu_bare" taskset -c "$cpu" "$bare" "$rate" "$customers" > "$out/bare"
    t2=$(now_ns)
    ratio=$(awk -v p=$((t1 - t0)) -v b=$((t2 - t1)) 'BEGIN { printf "%.3f", b / p }')
    cpu_ratio=$(awk -v p="$(cpu_s "$out/cpu_pipesim")" -v b="$(cpu_s "$out/cpu_bare")" \
        'BEGIN { printf "%.3f", (p > 0) ? b / p : 0 }')
    ratios+=("$ratio")
    cpu_ratios+=("$cpu_ratio")
    echo "round $round: pipesim $(( (t1 - t0) / 1000000 )) ms, bare $(( (t2 - t1) / 1000000 )) ms, ratio $ratio (CPU $cpu_ratio)  (load $(cut -d' ' -f1 /proc/loadavg))"
done
summary() {
    sort -n | awk -v what="$1" '{ a[NR] = $1 } END {
        printf "pipesim / bare loop, customers per %s: min %s median %s max %s (%d rounds)\n",
            what, a[1], a[int((NR + 1) / 2)], a[NR], NR }'
}
printf '%s\n' "${ratios[@]}" | summary "wall second"
printf '%s\n' "${cpu_ratios[@]}" | summary "CPU second"
