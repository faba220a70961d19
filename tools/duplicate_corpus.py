"""A labelled corpus for duplicate detection (并单), generated here, seeded.

A *situation* is one matter at one place (construction noise at the site beside 幸福里小区);
several citizens (or one, calling again) report it in their own words: the orders of one
situation are duplicates of each other, every other pair is not. Hard non-duplicates are
built in: the same kind of matter at another place of the same street, and another matter
at the same place.

Wording varies the way calls do: several phrasings per matter, colloquial fillers, Ningbo
dialect words (阿拉, 侬, 晓得), homophone typos, masked phone numbers (the content is
recorded masked, domain/pii.py).

The split is by matter: the `train` matters are the only ones the threshold is tuned on;
`test` matters (and their phrasings and places) are never looked at while tuning.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# matter -> (phrasings with {place} {detail} {time}, details)
MATTERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "施工噪音": ((
        "{place}{detail}每天晚上施工到{time}，噪音太大了，吵得没法睡觉",
        "反映{place}那边{detail}夜里施工扰民，{time}了还在干活",
        "我家住{place}，{detail}晚上一直有很大的噪声，严重影响休息，希望管一管",
        "{place}{detail}夜间施工噪音扰民，已经持续好几天了，到{time}都不停",
        "投诉{place}的{detail}，半夜还在施工，声音很吵，老人小孩都睡不着",
    ), ("旁边的地铁工地", "对面的商品房工地", "门口的道路改造工程", "东侧的管道铺设工程")),
    "垃圾清运": ((
        "{place}{detail}的垃圾好几天没人清运了，臭气熏天",
        "{place}{detail}垃圾堆满了没人收，夏天味道很大，蚊子苍蝇很多",
        "反映{place}{detail}垃圾长期不清理，已经堆到路上了",
        "{place}那个{detail}的垃圾桶满出来了，{time}都没人来拉走",
    ), ("北门垃圾房", "三号楼下垃圾桶", "菜场后面的垃圾点", "西侧围墙边")),
    "停水": ((
        "{place}{detail}从{time}开始停水，也没有提前通知，生活很不方便",
        "{place}{detail}突然没水了，{time}到现在还没来水，什么时候能恢复",
        "反映{place}{detail}停水一整天了，物业说不清楚原因",
        "{place}{detail}自来水停了，没有任何通知，家里老人做不了饭",
    ), ("五幢", "高层住户", "整个东区", "二期")),
    "路面坑洼": ((
        "{place}{detail}路面有个大坑，晚上骑电动车很危险",
        "{place}{detail}的马路坑坑洼洼，下雨积水，已经有人摔倒了",
        "反映{place}{detail}道路破损严重，希望尽快修补",
        "{place}{detail}有一段路塌陷了，车子开过去颠得厉害",
    ), ("公交站旁边", "十字路口", "学校门口", "桥下面")),
    "电梯故障": ((
        "{place}{detail}电梯坏了一个星期了，物业一直不修，老人上下楼很困难",
        "{place}{detail}的电梯经常停运，{time}又把人困在里面了",
        "反映{place}{detail}电梯故障频繁，存在安全隐患，物业不作为",
        "{place}{detail}电梯又坏了，住在高层爬楼太累，找物业也没用",
    ), ("七号楼", "十二幢", "一单元", "B座")),
    "餐馆卫生": ((
        "{place}{detail}卫生很差，后厨有老鼠，吃完肚子疼",
        "反映{place}{detail}食品不新鲜，餐具不消毒，要求查处",
        "{place}{detail}吃出了虫子，老板态度恶劣不肯处理",
        "我在{place}{detail}吃饭后上吐下泻，怀疑食物变质",
    ), ("那家麻辣烫店", "路口的早餐店", "新开的烧烤店", "小吃街的面馆")),
    "停电": ((
        "{place}{detail}从{time}开始停电了，冰箱里的东西都要坏了",
        "{place}{detail}突然断电，到{time}还没来电，也没人通知",
        "反映{place}{detail}经常停电，一个月停了好几次",
        "{place}{detail}没电了，电梯也停了，问供电所说不清楚",
    ), ("六幢", "沿街商铺", "南区", "三期")),
    "路灯不亮": ((
        "{place}{detail}的路灯坏了好久，晚上黑漆漆的很不安全",
        "{place}{detail}路灯一直不亮，女孩子晚上回家很害怕",
        "反映{place}{detail}一排路灯都不亮了，希望尽快修理",
        "{place}{detail}晚上没有灯，{time}走路差点摔跤",
    ), ("河边步道", "地下通道口", "小区主干道", "菜场门口")),
    "拖欠工资": ((
        "我在{place}{detail}干活，老板拖欠了三个月工资不发",
        "{place}{detail}拖欠农民工工资，{time}之前说好的钱到现在都没给",
        "反映{place}{detail}欠薪，好几十个工人拿不到工资",
        "{place}{detail}的包工头跑了，我们的工钱没人管",
    ), ("旁边的建筑工地", "那家服装厂", "物流园的仓库", "装修公司")),
    "遛狗不牵绳": ((
        "{place}{detail}经常有人遛狗不牵绳，小孩被吓哭了",
        "{place}{detail}有大狗不拴绳到处跑，还随地大小便",
        "反映{place}{detail}养犬人不文明，狗不牵绳追着人咬",
        "{place}{detail}晚上{time}有人放狗乱跑，很危险",
    ), ("中心花园", "儿童游乐场", "健身步道", "篮球场边上")),
    "占用消防通道": ((
        "{place}{detail}消防通道被车子堵死了，万一着火怎么办",
        "{place}{detail}长期有车乱停，占着消防通道，物业不管",
        "反映{place}{detail}消防车道停满私家车，存在安全隐患",
        "{place}{detail}的消防通道被电瓶车和杂物堵住了",
    ), ("东门", "地库出口", "九号楼后面", "幼儿园旁边")),
    "工厂异味": ((
        "{place}{detail}每天晚上排放刺鼻的气味，熏得人头晕",
        "{place}{detail}偷偷排废气，{time}味道特别重，窗户都不敢开",
        "反映{place}{detail}有很大的化工异味，怀疑违规排放",
        "{place}{detail}烟囱冒黑烟，气味难闻，家里小孩咳嗽",
    ), ("附近的化工厂", "北边的塑料厂", "河对岸的印染厂", "工业区的喷漆厂")),
}
TRAIN_MATTERS = ("施工噪音", "垃圾清运", "停水", "路面坑洼", "电梯故障", "餐馆卫生")
TEST_MATTERS = ("停电", "路灯不亮", "拖欠工资", "遛狗不牵绳", "占用消防通道", "工厂异味")
PLACES = {
    "train": ("幸福里小区", "东湖花园", "锦绣家园", "新河路", "桃源新村", "春晖苑", "海棠湾",
              "银杏苑", "解放路", "柳岸新村"),
    "test": ("金色港湾", "明月小区", "和平路", "丰收街", "翠柏苑", "青石弄", "紫荆花园",
             "梧桐苑", "中山路", "白云新村"),
}
TIMES = ("晚上十一点", "凌晨一点", "半夜十二点", "昨天下午", "前天晚上", "今天早上")
OPENINGS = ("", "", "", "你好，", "喂，我要反映个事情，", "我跟你讲，", "阿拉这里", "侬好，")
CLOSINGS = ("", "", "", "希望尽快处理。", "麻烦你们管一管。", "侬晓得伐，实在受不了了。",
            "请回电话138****5678。", "谢谢。")
# Homophone slips of the kind typed in a hurry.
TYPOS = {"噪音": "燥音", "已经": "以经", "希望": "希忘", "处理": "处里", "安全": "安全全",
         "厉害": "利害", "严重": "严众", "工资": "工支", "通知": "通之", "恢复": "恢服"}


@dataclass(frozen=True)
class CorpusOrder:
    order_no: int
    split: str
    situation: str  # orders of one situation are duplicates of each other
    matter: str
    citizen: str
    content: str


def _noisy(rng: random.Random, text: str) -> str:
    text = rng.choice(OPENINGS) + text
    if rng.random() < 0.35:
        word = rng.choice([w for w in TYPOS if w in text] or [""])
        if word:
            text = text.replace(word, TYPOS[word], 1)
    return text + ("，" if rng.random() < 0.5 else "。") + rng.choice(CLOSINGS)


def generate(split: str, seed: int = 14) -> list[CorpusOrder]:
    """The orders of one split, in intake order: every situation of its matters (each
    matter at each place with one detail), reported 1-3 times in different words."""
    if split not in PLACES:
        raise ValueError(f"unknown split {split!r}")
    rng = random.Random(f"{seed}-{split}")
    matters = TRAIN_MATTERS if split == "train" else TEST_MATTERS
    orders: list[CorpusOrder] = []
    reports: list[tuple[str, str, str]] = []  # situation, matter, content
    for matter in matters:
        phrasings, details = MATTERS[matter]
        for place in PLACES[split]:
            detail = rng.choice(details)
            situation = f"{split}:{matter}:{place}:{detail}"
            count = rng.choice((1, 1, 2, 2, 3))
            for phrasing in rng.sample(phrasings, count):
                content = phrasing.format(place=place, detail=detail, time=rng.choice(TIMES))
                reports.append((situation, matter, _noisy(rng, content)))
    rng.shuffle(reports)
    for number, (situation, matter, content) in enumerate(reports, start=1):
        orders.append(CorpusOrder(number, split, situation, matter,
                                  f"{split}-citizen-{rng.randrange(10_000)}", content))
    return orders
