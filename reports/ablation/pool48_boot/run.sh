#!/bin/bash
# Session 6: Table III's third row on v2: an ASMR pool bootstrapped by N2A from the bundle's normal pool (the
# paper's way), then the same 48 EN N2A test entries as pool48_{virtual,fixed}; paired against the corpus pool.
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets
export OMP_NUM_THREADS=1
$D pool build --out runs/pools_boot_v2 --from-normal --bundle models/tiny --tokenizer models/tiny > runs/eval/pools_boot_v2.log 2>&1
O=runs/eval/pool48
$D eval-model --audio-root corpus/v2 --out $O/boot --limit 48 --workers 1 --force --pools runs/pools_boot_v2 \
  --testset $T/EN_N2A_testset.json > $O.boot.log 2>&1
.venv/bin/python -m deepasmr.eval.paired --testset $O/virtual/EN_N2A/testset.json --audio-root corpus/v2 \
  --a $O/virtual/EN_N2A --b $O/boot/EN_N2A --json $O/paired_virtual_vs_boot.json > $O.paired_boot.log 2>&1
echo done > $O.boot.done
