#!/usr/bin/env bash
# The TUN relay does what it is told, measured from inside the namespaces with
# netem_probe: round trip within a few ms of the configured delay (and its own
# cost without impairment), jitter bounds, loss rate within statistical bounds
# (and equal to its counter), a 20 Mbit/s bottleneck that TCP fills to 80-100%
# and that UDP overload meets with a bounded queue (queueing delay, drop-tail),
# freeze, protocol drop, runtime changes and bad commands. Needs root.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
source tools/testing/netns_lib.sh
e2e_init
netns_init
PROBE=$NETNS_PROBE_BIN

netns_create client server
netns_relay --seed 11 client server
S=${NETNS_ADDR[server]}
netns_bg server "$PROBE" udp-echo --port 7001 --max-seconds 300
netns_bg server "$PROBE" tcp-sink --port 7002 --count 3 --max-seconds 300
sleep 0.3

# field NAME LINE: the value of NAME=... in a probe's output line.
field() { sed -n "s/.*\\b$1=\\([-0-9.]*\\).*/\\1/p" <<<"$2"; }
# check EXPR MESSAGE: awk evaluates EXPR (numbers compared as numbers).
check() { awk "BEGIN { exit !($1) }" || fail "$2 ($1)"; }
ping_udp() {  # COUNT INTERVAL_MS [SIZE]
  netns_exec client "$PROBE" udp-ping --to "$S" --port 7001 --count "$1" \
    --interval-ms "$2" --size "${3:-64}" --wait-ms 1500
}

# --- Round trip: the relay's own cost, then configured delays -------------
out=$(ping_udp 200 5)
echo "clean:        $out"
base=$(field rtt_p50_ms "$out")
check "$(field received "$out") == 200" "clean link lost probes"
check "$base < 2" "relay adds too much round trip without impairment"

netns_link client delay=25ms
out=$(ping_udp 100 10)
echo "25+25 ms:     $out"
check "$(field rtt_min_ms "$out") >= 50" "RTT below the configured 50 ms"
check "$(field rtt_p50_ms "$out") < 50 + $base + 3" "RTT median above 50 ms + a few"

# Per direction: 40 ms out, 10 ms back.
netns_link client.up delay=40ms
netns_link client.down delay=10ms
out=$(ping_udp 50 10)
echo "40+10 ms:     $out"
check "$(field rtt_min_ms "$out") >= 50" "asymmetric RTT below 50 ms"
check "$(field rtt_p50_ms "$out") < 50 + $base + 3" "asymmetric RTT median"

# Jitter: 25 +/- 10 ms each way, order kept.
netns_link client delay=25ms,jitter=10ms
out=$(ping_udp 200 20)
echo "jitter 10 ms: $out"
# Exact bounds are link_model_test's. Here the upper tail is the machine's:
# with other builds on a 2-core machine the 95th percentile was seen at
# 74.7-92.0 ms while the 25+25 ms run just before stayed near 53. So the
# checks are the floor (no probe earlier than 30 ms), the median (a jitter
# symmetric around 25 ms each way keeps it at 50 ms) and the spread.
check "$(field rtt_min_ms "$out") >= 30" "jitter below its bound"
check "$(field rtt_p50_ms "$out") >= 45" "jitter median below 50 ms"
check "$(field rtt_p50_ms "$out") < 55 + $base" "jitter median above 50 ms + a few"
check "$(field rtt_p95_ms "$out") - $(field rtt_p5_ms "$out") >= 15" "no jitter seen"
check "$(field reordered "$out") == 0" "jitter reordered packets"

# --- Loss: 10% one way, over 2000 probes ------------------------------------
netns_link client clean
netns_ctl clear >/dev/null
netns_link client.up loss=10%
out=$(ping_udp 2000 1)
echo "loss 10%:     $out"
lost=$(field lost "$out")
# Binomial(2000, 0.1): sd 13.4; 4 sd.
check "$lost >= 200 - 54 && $lost <= 200 + 54" "loss count outside 4 sd of 200"
[ "$(netns_stat client.up.lost_packets)" = "$lost" ] ||
  fail "relay counted $(netns_stat client.up.lost_packets) lost, the probe $lost"
[ "$(netns_stat client.up.udp.in_packets)" = 2000 ] || fail "udp in counter"
netns_link client.up loss=0

# --- Rate: a TCP bulk transfer through 20 Mbit/s at 50 ms RTT ----------------
netns_link client delay=25ms,rate=20mbit,queue=50ms
out=$(netns_exec client "$PROBE" tcp-send --to "$S" --port 7002 --bytes 6000000 \
  --timeout-seconds 30) || fail "TCP transfer"
echo "TCP 20 Mbit/s, 50 ms: $out"
mbit=$(field mbit_per_s "$out")
check "$mbit >= 16 && $mbit <= 20.5" "TCP got $mbit Mbit/s of 20"
check "$(netns_stat client.up.max_queue_bytes) <= 125000" "queue above 50 ms at 20 Mbit/s"

# --- Queue: UDP at 30 Mbit/s into 20 Mbit/s, with probes beside it ----------
netns_ctl clear >/dev/null
netns_bg server "$PROBE" udp-sink --port 7003 --idle-ms 1000 --max-seconds 60 \
  >"$E2E_DIR/sink.out"
sink_pid=$NETNS_BG_PID
sleep 0.2
# Payload 1172 + 28 header bytes = 1200 per packet on the link.
netns_exec client "$PROBE" udp-blast --to "$S" --port 7003 --rate 30mbit --seconds 3 \
  --size 1172 >"$E2E_DIR/blast.out" &
blast=$!
sleep 1
# Probes queue behind the blast: 50 ms of propagation + 50 ms of queue.
out=$(ping_udp 50 20)
echo "ping under load: $out"
wait "$blast" || fail "udp-blast"
for _ in $(seq 50); do kill -0 "$sink_pid" 2>/dev/null || break; sleep 0.1; done
sink=$(grep received_bytes "$E2E_DIR/sink.out")
echo "blast: $(cat "$E2E_DIR/blast.out")"
echo "sink:  $sink"
# 20 Mbit/s of 1200-byte packets is 19.53 Mbit/s of payload.
check "$(field mbit_per_s "$sink") >= 18.5 && $(field mbit_per_s "$sink") <= 20" \
  "UDP through the 20 Mbit/s bottleneck"
check "$(field rtt_p50_ms "$out") >= 90 && $(field rtt_p50_ms "$out") <= 115" \
  "queueing delay under load (expected ~100 ms RTT)"
drops=$(netns_stat client.up.queue_drops_packets)
maxq=$(netns_stat client.up.max_queue_bytes)
delivered=$(netns_stat client.up.delivered_bytes)
echo "queue drops=$drops max_queue_bytes=$maxq delivered_bytes=$delivered"
check "$drops > 1000" "no drop-tail at 150% load"
check "$maxq <= 125000 && $maxq >= 120000" "queue did not fill to its 50 ms limit"
# 3 s at 20 Mbit/s (plus the probes and the queue drained): 7.5 MB.
check "$delivered >= 7000000 && $delivered <= 7700000" "bottleneck passed $delivered bytes in ~3 s"
netns_link client clean

# --- Freeze: 1 s blackhole in the middle of 3 s of probes --------------------
netns_ctl clear >/dev/null
( sleep 1; netns_freeze 1 ) &
freezer=$!
out=$(ping_udp 300 10)
wait "$freezer"
echo "freeze 1 s:   $out"
lost=$(field lost "$out")
check "$lost >= 85 && $lost <= 115" "freeze of 1 s lost $lost of 300 probes at 10 ms"
check "$(netns_stat client.up.blackholed_packets) > 0" "no blackholed counter"

# --- Protocol drop: UDP only -------------------------------------------------
netns_ctl clear >/dev/null
netns_ctl drop udp client.up >/dev/null || fail "drop udp"
out=$(ping_udp 20 10)
check "$(field received "$out") == 0" "UDP passed a drop"
netns_exec client "$PROBE" tcp-send --to "$S" --port 7002 --bytes 100000 \
  --timeout-seconds 10 >/dev/null || fail "TCP blocked by a UDP drop"
check "$(netns_stat client.up.udp.in_packets) == $(netns_stat client.up.filtered_packets)" \
  "every UDP packet filtered"
netns_ctl pass udp client.up >/dev/null || fail "pass udp"
out=$(ping_udp 20 10)
check "$(field received "$out") == 20" "UDP after pass"

# --- Control errors are reported, nothing changes -----------------------------
netns_ctl set client loss=2 >/dev/null && fail "loss=2 accepted"
netns_ctl set nowhere delay=1ms >/dev/null && fail "unknown link accepted"
netns_ctl frobnicate >/dev/null && fail "unknown command accepted"
netns_ctl show | grep -q '^client.up delay=0ms' || fail "config changed by bad commands"

# --- The relay's ceiling without impairment (reported, loosely checked) -----
out=$(netns_exec client "$PROBE" tcp-send --to "$S" --port 7002 --bytes 100000000 \
  --timeout-seconds 60) || fail "TCP unlimited"
echo "TCP unlimited: $out"
check "$(field mbit_per_s "$out") > 50" "relay ceiling below 50 Mbit/s"
echo PASS
