#!/bin/bash
# Session 8: the flow decoder trained 1,500 more steps on corpus/v2 in bf16-mixed (runs/flow/tiny_v2c, from
# models/tiny's flow, lr 3e-4 cosine, 2 threads, 27 min) against the shipped one, end to end on the DEV speakers:
# the shipped bundle and the same bundle with the new flow (fp16, runs/eval/bundle_v2c), same seeds; then paired.
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets_dev
R=reports/ablation/flow_v2c_dev
L=runs/eval/logs_v2c; mkdir -p $L
export OMP_NUM_THREADS=1
SETS="--testset $T/EN_N2A_testset.json --testset $T/EN_A2N_testset.json --testset $T/EN_N2N_testset.json"
ZSETS="--testset $T/ZH_N2A_testset.json --testset $T/ZH_N2N_testset.json"
lane() {  # model out
  $D eval-model --model $1 --audio-root corpus/v2 --out $2 --limit 12 --workers 1 --force $SETS $ZSETS > $L/$(basename $2).log 2>&1
}
lane models/tiny runs/eval/dev_shipped &
lane runs/eval/bundle_v2c runs/eval/dev_v2c &
wait
for task in EN_N2A EN_A2N EN_N2N ZH_N2A ZH_N2N; do
  .venv/bin/python -m deepasmr.eval.paired --testset runs/eval/dev_v2c/$task/testset.json --audio-root corpus/v2 \
    --a runs/eval/dev_shipped/$task --b runs/eval/dev_v2c/$task --json $R/paired_shipped_vs_v2c_$task.json > $L/paired_$task.log 2>&1
done
for x in shipped v2c; do cp runs/eval/dev_$x/eval.md $R/eval_$x.md; cp runs/eval/dev_$x/eval.json $R/eval_$x.json; done
echo done > $L/done
