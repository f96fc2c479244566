#!/usr/bin/env bash
# tun-nc.sh over pn-tun's impaired link: 2% loss, 1% reorder, 1% duplicates.
export NI_CASE=lossy-nc
export NI_IMPAIR="${NI_IMPAIR:---loss 0.02 --reorder 0.01 --dup 0.01 --seed 1}"
exec "$(dirname "$0")/tun-nc.sh"
