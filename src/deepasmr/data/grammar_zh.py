"""Mandarin sentences generated from our own small grammar and word lists (written for this project;
Apache-2.0 with the code), chosen to cover initials, finals and the four tones plus the neutral tone."""

from __future__ import annotations

import random

from deepasmr.data.grammar import distinct_sentences, words

PEOPLE = words(
    "我的邻居 小王 老师 那位医生 我妹妹 他的爷爷 隔壁的小孩 张阿姨 我们班长 那个司机 李先生 她的女儿 "
    "年轻的画家 村里的农民 图书馆的管理员 我的老朋友"
)
TIMES = words("昨天晚上 今天早上 上个星期 每个周末 下雨的时候 春节前后 中午 凌晨 去年夏天 刚才")
PLACES = words("在公园里 在厨房里 在火车站 在河边 在山顶上 在学校门口 在小卖部 在图书馆 在院子里 在桥下面")
ACTIONS = words(
    "读了一本旧书 喝了一杯热茶 画了一幅山水画 修好了自行车 种了几棵小树 洗干净了所有的碗 "
    "写了一封长信 找到了丢失的钥匙 唱了一首老歌 包了很多饺子 买了两斤苹果 拍了几张照片 "
    "听了一会儿音乐 打扫了整个房间 学会了下象棋 看见了一只白猫"
)
FEELINGS = words("非常高兴 有点紧张 特别安静 十分认真 很累 格外开心 有些困 很满足")
THINGS = words("窗外的月亮 桌上的花 远处的钟声 温柔的风 清晨的阳光 小溪的流水 树叶的沙沙声 远方的灯火")
WEATHER = words("天气晴朗 下着小雨 刮起大风 雪花飘落 云很低 空气清新")

def _sentence(rng: random.Random) -> str:
    c = rng.choice
    templates = (
        lambda: f"{c(PEOPLE)}{c(TIMES)}{c(PLACES)}{c(ACTIONS)}。",
        lambda: f"{c(TIMES)}{c(WEATHER)}，{c(PEOPLE)}{c(FEELINGS)}。",
        lambda: f"{c(PEOPLE)}说，{c(THINGS)}让人{c(FEELINGS)}。",
        lambda: f"你知道{c(PEOPLE)}{c(TIMES)}{c(ACTIONS)}吗？",
        lambda: f"{c(PLACES)}，{c(PEOPLE)}静静地听着{c(THINGS)}。",
        lambda: f"因为{c(WEATHER)}，所以{c(PEOPLE)}{c(PLACES)}{c(ACTIONS)}。",
    )
    return c(templates)()


def grammar_sentences(count: int, seed: int = 0) -> list[str]:
    """`count` distinct generated sentences, the same list for the same seed."""
    return distinct_sentences(_sentence, count, seed)
