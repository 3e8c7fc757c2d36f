#!/bin/bash
# Session 8: the flow decoder in bf16 (precision auto on this AMX CPU) against fp32, the same bundle, seeds and
# test entries. Lane A: fp32 (runs/eval/fp32). Lane B: auto = bf16 -> reports/e2e, reports/e2e_zh and, for the
# 48 EN N2A entries, reports/ablation/bf16_test/en48. Then each task paired entry by entry (SIM->GT).
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets
export OMP_NUM_THREADS=1
A=runs/eval/fp32
R=reports/ablation/bf16_test
L=runs/eval/logs_bf16
mkdir -p $A $L
EN="--testset $T/EN_N2A_testset.json --testset $T/EN_A2A_testset.json --testset $T/EN_A2N_testset.json --testset $T/EN_N2N_testset.json"
ZH="--testset $T/ZH_N2A_testset.json --testset $T/ZH_A2A_testset.json --testset $T/ZH_A2N_testset.json --testset $T/ZH_N2N_testset.json"
lane() {  # precision en12 en48 zh8 (logs in runs/eval/logs_bf16)
  local p=$1 en=$2 en48=$3 zh=$4
  $D eval-model --audio-root corpus/v2 --out $en --limit 12 --workers 1 --force --precision $p $EN > $L/en12.$p.log 2>&1
  $D eval-model --audio-root corpus/v2 --out $zh --limit 8 --workers 1 --force --precision $p $ZH > $L/zh8.$p.log 2>&1
  $D eval-model --audio-root corpus/v2 --out $en48 --limit 48 --workers 1 --force --precision $p \
    --testset $T/EN_N2A_testset.json > $L/en48.$p.log 2>&1
  .venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
    --generated $en48/EN_N2A --json $en48/EN_N2A_speaker_wins.json > $L/en48.$p.wins.log 2>&1
}
lane fp32 $A/en12 $A/en48 $A/zh8 &
lane auto reports/e2e $R/en48 reports/e2e_zh &
wait
.venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
  --generated reports/e2e/EN_N2A --json reports/e2e/EN_N2A_speaker_wins.json > $L/wins12.log 2>&1
for pair in "en12 reports/e2e EN_N2A EN_A2A EN_A2N EN_N2N" "zh8 reports/e2e_zh ZH_N2A ZH_A2A ZH_A2N ZH_N2N" "en48 $R/en48 EN_N2A"; do
  set -- $pair; a=$A/$1 b=$2; shift 2
  for task in "$@"; do
    .venv/bin/python -m deepasmr.eval.paired --testset $b/$task/testset.json --audio-root corpus/v2 \
      --a $a/$task --b $b/$task --json $R/paired_fp32_vs_bf16_${task}_$(basename $b).json > $L/paired_$task.log 2>&1
  done
done
echo done > $L/done
