import torch

from deepasmr.lm.config import EOS, IGNORE_INDEX, SOS, STYLE_OFFSET, STYLES, TASK
from deepasmr.lm.layout import KIND_SPECIAL, KIND_SPEECH, KIND_TEXT, pad_rows, prefix_row, training_row

EOS_LABEL = 99


def test_training_row_layout_and_labels():
    row = training_row([5, 6], STYLES.index("asmr"), [7], [40, 41], [50, 51, 52], EOS_LABEL)
    assert row.ids.tolist() == [SOS, STYLE_OFFSET + 1, 7, 5, 6, TASK, 40, 41, 50, 51, 52]
    assert row.kinds.tolist() == [KIND_SPECIAL] * 2 + [KIND_TEXT] * 3 + [KIND_SPECIAL] + [KIND_SPEECH] * 5
    # Only the last prompt token and the target tokens predict something: z then eos.
    expected = [IGNORE_INDEX] * 7 + [50, 51, 52, EOS_LABEL]
    assert row.labels.tolist() == expected


def test_row_without_task_prompt_is_style_text_task():
    row = prefix_row([5, 6], STYLES.index("normal"))
    assert row.ids.tolist() == [SOS, STYLE_OFFSET, 5, 6, TASK]
    assert EOS not in row.ids[row.kinds == KIND_SPEECH].tolist()


def test_left_and_right_padding_keep_positions_per_row():
    rows = [prefix_row([5, 6, 7], 0), prefix_row([5], 1)]
    left = pad_rows(rows, "left")
    right = pad_rows(rows, "right")
    assert left["attention_mask"].tolist() == [[1] * 6, [0, 0, 1, 1, 1, 1]]
    assert left["position_ids"][1, 2:].tolist() == [0, 1, 2, 3]
    assert right["attention_mask"][1].tolist() == [1, 1, 1, 1, 0, 0]
    assert right["position_ids"][1, :4].tolist() == [0, 1, 2, 3]
    assert torch.equal(left["ids"][1, 2:], right["ids"][1, :4])
