"""The labelled dispatch corpus (issue 14 item 4): synthetic 12345 requests for every item of
the sample catalogue (config/dispatch_catalogue.csv), each labelled with the item and the
unit that must lead it, with a fixed train / held-out split.

`python -m tools.make_dispatch_corpus` rewrites tests/fixtures/dispatch_corpus.jsonl
(deterministic: seeded). What makes the held-out part unseen text:
- its sentence frames (openers, places, endings, whole templates) are never used in train;
- the last paraphrase of every item is held out: train never sees that wording;
- the noise (dialect words, typos, a second topic) is drawn afresh.
Paraphrases are written here by hand as citizens say things (colloquial, some Ningbo dialect
words: 阿拉, 侬, 交关, 弗, 今朝, 夜到); they are not the catalogue's keywords, which the rules
know anyway. Items given per street (邻里事务, 家禽) are region-dependent: the same words
go to the street office of the caller's region.

The held-out part is for `python -m tools.bench dispatch` only: nothing is tuned on it.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "config" / "dispatch_catalogue.csv"
CORPUS = ROOT / "tests" / "fixtures" / "dispatch_corpus.jsonl"
SEED = 20261203
PER_ITEM = 32  # requests per catalogue row (72 rows: 2,304 requests)
HELD_OUT = 10  # of them held out per row
REGIONS = ("甬江区", "甬江区东湖街道", "甬江区西塘街道", "甬江区南岸镇")
COMMUNITIES = {"甬江区东湖街道": ("春晓社区", "东湖花园社区"), "甬江区西塘街道": ("西塘新村社区", "梅园社区"),
               "甬江区南岸镇": ("南岸村", "渡头村")}
CATEGORIES = ("投诉", "投诉", "投诉", "求助", "求助", "咨询", "举报", "建议")

# Item name -> how citizens describe it; the last one is held out (never in train).
PHRASES: dict[str, tuple[str, ...]] = {
    "建筑施工夜间噪音": ("工地晚上十一点多还在打桩", "旁边工地半夜还在施工，吵得睡不着", "夜里工地机器轰隆隆一直响",
                  "凌晨两点还在浇混凝土，搅拌车声音很大", "工地通宵开工，小孩根本没法睡觉"),
    "工业企业噪音扰民": ("附近工厂机器整天轰鸣", "厂里的冷却塔噪声很大", "隔壁厂房的风机一直嗡嗡响",
                  "那家加工厂冲床咚咚咚响个不停", "工业园区里有家厂的设备噪声震得窗户都在抖"),
    "商铺高音喇叭噪音": ("楼下店铺用喇叭循环播放促销", "商铺门口音响开得很响", "服装店门口大喇叭一直在喊清仓",
                  "超市门口外放音乐一整天", "有家手机店拿扩音器喊甩卖，吵死人"),
    "交通噪音": ("高架上车辆噪音太大", "路口车子一直按喇叭鸣笛", "快速路没有隔音屏，车声很吵",
             "晚上大货车经过声音轰轰的", "主干道改造后车流噪音比以前大多了"),
    "生活垃圾清运不及时": ("小区垃圾桶满了好几天没人收", "垃圾堆在门口没人清运，很臭", "垃圾房三天没清理了",
                   "垃圾车好久没来，垃圾都溢出来了", "楼下垃圾堆成小山，苍蝇嗡嗡飞"),
    "垃圾分类投放指导": ("想问一下厨余垃圾怎么分类", "垃圾分类投放时间不合理", "小区的分类垃圾桶被混着倒",
                  "不知道旧电池算什么垃圾，该扔哪里", "定时定点投放的点太远了，老人不方便"),
    "建筑垃圾乱倒": ("有人把装修垃圾倒在路边", "空地上堆了很多建筑垃圾", "绿化带里被倒了一车碎砖头",
                "晚上有车偷偷来倒渣土", "河边荒地成了建筑垃圾堆放场"),
    "渣土车遗撒": ("渣土车开过去路上全是泥", "土方车掉了一路的泥土", "拉渣土的车没盖篷布，沿路撒",
               "大卡车运土漏了一地，车子一过全是灰", "工地出来的车轮子带泥，马路上脏兮兮"),
    "停水": ("我们这里突然没水了", "家里自来水停了也没通知", "整栋楼都断水了",
           "早上起来一拧龙头一滴水都没有", "停水一整天了，连饭都做不了"),
    "水压低": ("楼上水压太低", "水龙头出水很小", "高层住户一到晚上就没水",
            "热水器都打不着火，水压不够", "洗澡的时候水流细得像线一样"),
    "水质异常": ("自来水发黄", "水里有股怪味", "放出来的水浑浊不清",
             "烧开的水里有白色沉淀，感觉不干净", "自来水有漂白粉味道，还有点红锈色"),
    "水管爆裂": ("路边水管爆了在冒水", "小区里水管破裂一直在漏", "地下水管爆裂，水都涌到路上了",
             "马路中间往外喷水，像是主管道破了", "绿化带里咕嘟咕嘟冒水，好像管子裂了"),
    "下水道堵塞": ("下水道堵住了，污水冒出来", "窨井盖往外溢污水", "小区排水管堵了，一股臭味",
              "厨房下水反上来了，整栋楼都是", "雨水井堵死了，脏水漫到人行道"),
    "道路积水": ("一下雨路面就积水", "下雨后路口淹得过不去", "地下通道积水很深",
             "暴雨过后小区门口的路成了河", "每次下大雨这段路都要淹到膝盖"),
    "停电": ("小区突然停电了", "家里没电了，整栋楼都黑着", "经常跳闸断电",
           "晚上停电好几个小时，冰箱里东西都坏了", "这个月已经莫名其妙断了三次电"),
    "电压不稳": ("家里灯一直闪", "电压不稳，电器老是重启", "晚上电压很低，空调开不动",
             "电灯忽明忽暗的，怕把电器烧了", "用电高峰时电压掉得厉害，洗衣机都转不动"),
    "电费争议": ("这个月电费突然翻倍", "电表走得太快，怀疑有问题", "电费账单和实际用电对不上",
             "家里没人住电费还扣了好几百", "阶梯电价算得不对，多收了钱"),
    "电线私拉乱接": ("楼道里有人私拉电线给电动车充电", "飞线充电很危险", "小区树上挂满了乱拉的电线",
               "有住户从窗户吊下插座给电瓶车充电", "电线从五楼拖到楼下，拦在人行道上"),
    "道路破损坑洼": ("路面坑坑洼洼的", "马路上有个大坑", "这条路烂得不成样子，车子开过去颠得厉害",
               "村口的水泥路裂开了好几条缝", "路上坑太多，电动车已经摔了好几个人"),
    "公交线路与站点": ("公交车班次太少", "公交站台被撤了，很不方便", "希望增加一条公交线路",
                "等公交车要等四十分钟", "早高峰公交挤不上去，能不能加车"),
    "出租车拒载绕路": ("出租车司机拒载", "打车被故意绕路", "网约车司机多收钱还绕远路",
                "的士司机嫌路近不肯拉", "火车站的出租车不打表乱要价"),
    "红绿灯与交通设施": ("路口红绿灯坏了", "信号灯时间太短，老人过不了马路", "路边护栏被撞坏了",
                 "交通标志被树挡住看不见", "斑马线那里的灯一直黄灯闪"),
    "共享单车乱停放": ("共享单车堆满了人行道", "门口单车乱停没法走路", "电动车乱停把盲道占了",
                "地铁口的单车堆成一堆，轮椅都过不去", "小黄车横七竖八倒了一地"),
    "占道经营": ("有人在马路边摆摊", "流动摊贩占了人行道", "夜市摊位把路都堵了",
             "菜贩子把菜摆到路中间卖", "早餐店把桌子摆到人行道上"),
    "物业服务质量": ("物业什么事都不管", "物业费收了服务却很差", "小区保安形同虚设",
               "物业公司不修门禁还涨物业费", "楼道灯坏了半年物业也不来换"),
    "电梯故障": ("电梯又坏了", "电梯经常停运", "被困在电梯里半个小时",
             "电梯运行的时候抖得厉害，还有异响", "电梯门关不上，上下乱跑很吓人"),
    "房屋漏水": ("楼上漏水到我家", "屋顶漏雨", "墙面渗水发霉了",
             "卫生间天花板一直在滴水", "下雨天家里要拿盆接水"),
    "商品房交付与质量": ("开发商延期交房", "新房墙体开裂", "交房时发现房屋质量问题很多",
                 "买的期房过了合同日期还不交付", "精装房的地板和合同约定的不一样"),
    "违章搭建": ("邻居在楼顶搭了违建", "一楼住户私自扩建院子", "有人在露台上搭阳光房",
             "小区里有人违规加盖了一层", "别墅区有户人家把花园围起来盖了房子"),
    "房屋租赁与中介": ("房东不退押金", "中介乱收费", "租房合同到期房东扣钱",
                "二房东跑路了，交的房租要不回来", "中介隐瞒房子漏水的情况骗我签约"),
    "拖欠工资": ("老板拖欠工资三个月了", "工地不发工钱", "公司一直拖着不给工资",
             "干了半年活，包工头跑了一分钱没拿到", "厂里说效益不好，工资一拖再拖"),
    "劳动合同纠纷": ("公司不跟我签劳动合同", "被无故辞退没有赔偿", "加班费一直不给",
               "试用期被开除，公司说不用给补偿", "老板逼我自己写辞职信"),
    "社保缴纳": ("单位没给我交社保", "社保断缴了怎么办", "养老保险少交了好几个月",
             "公司按最低基数交社保，和工资不符", "换了工作社保转不过来"),
    "失业与就业补贴": ("想问失业金怎么领", "就业补贴一直没发", "有没有招聘会的信息",
                "失业保险金申请了两个月没有下文", "大学生创业补贴去哪里申请"),
    "医保报销": ("医保报销比例太低", "异地就医怎么报销", "医保卡刷不了",
             "住院的钱报销下来少了很多", "门诊慢性病的药医保不给报"),
    "医保参保缴费": ("城乡居民医保怎么交", "孩子参保怎么办理", "医保缴费截止日期是什么时候",
               "老人在外地，医保能不能帮他续交", "灵活就业人员怎么参加医疗保险"),
    "餐馆卫生": ("饭店后厨很脏", "在餐馆吃了之后拉肚子", "饭菜里吃出苍蝇",
             "外卖里吃出了头发和虫子", "那家小吃店碗筷都不消毒"),
    "过期食品": ("超市卖过期的牛奶", "买到变质的面包", "零食过了保质期还在卖",
             "月饼的生产日期被重新贴过标签", "买的酸奶打开已经发酸胀袋了"),
    "无证经营": ("路边有家店没有营业执照", "小区里有黑作坊在做食品", "有人无证开诊所",
             "出租屋里有人偷偷加工熟食卖", "民房里开了个没有证照的小旅馆"),
    "预付卡退费": ("健身房跑路了，卡里钱退不了", "理发店办的卡不给退", "充值卡余额店家不认",
               "游泳馆关门了，年卡的钱找不到人退", "美容院换了老板，之前充的钱不算了"),
    "虚假宣传与价格欺诈": ("商家虚假宣传", "价格标签和结账不一样", "景区乱收费",
                   "药店把普通食品当保健药卖", "说是打五折，其实先涨价再打折"),
    "商品质量投诉": ("买的电器质量有问题", "网上买到假货", "商家不给退货",
               "新买的手机用了两天就坏了，售后不管", "衣服洗一次就掉色严重"),
    "学校收费": ("学校乱收补课费", "校服费太贵", "学校强制收资料费",
             "班主任让家长交班费买礼物", "学校食堂收费标准不公开"),
    "校外培训": ("培训机构不给退费", "补习班老板跑了", "校外培训违规上课",
             "周末还有机构偷偷开学科辅导班", "早教中心突然关门，剩下的课时费没着落"),
    "入学与学区": ("孩子入学的事想咨询", "学区划分不合理", "转学手续怎么办",
             "户口在这边孩子却被分到很远的学校", "随迁子女上小学需要什么材料"),
    "校园周边安全": ("学校门口接送时太乱", "校车超载", "学校门口没有减速带",
               "放学时校门口电动车乱窜很危险", "学校附近有人卖三无零食给小孩"),
    "企业废气排放": ("工厂排放废气", "烟囱冒黑烟", "厂里一股刺鼻的化工味",
               "晚上附近工厂偷偷排气，呛得睡不着", "喷漆车间的味道飘到小区里"),
    "河道污染": ("河水发黑发臭", "河里有很多死鱼", "有排污口往河里排污水",
             "小河上漂着一层油花", "河道里垃圾多，水都变绿了"),
    "餐饮油烟": ("楼下饭店油烟太大", "烧烤摊油烟熏人", "饭店排烟管道对着我家窗户",
             "火锅店的油烟把外墙都熏黑了", "一到饭点厨房的味道就灌进屋里"),
    "焚烧秸秆垃圾": ("有人在田里烧秸秆", "村里有人焚烧垃圾", "空地上烧东西浓烟滚滚",
               "隔壁天天在院子里烧塑料", "收割完田里到处冒烟"),
    "犬只扰民与伤人": ("邻居家的狗整夜叫", "遛狗不拴绳", "被狗咬了",
                "楼上养了三条大狗，天天在楼道里拉屎", "有人带着没拴绳的大型犬在小区里跑"),
    "流浪动物": ("小区里流浪狗很多", "流浪猫晚上叫个不停", "有野狗追着小孩",
             "公园里有一群野猫翻垃圾桶", "菜场附近的流浪狗会咬人"),
    "工作人员作风": ("办事窗口工作人员态度很差", "部门之间互相推诿", "工作人员不作为",
               "去办证被踢皮球，跑了五趟还没办成", "窗口人员上班时间玩手机不理人"),
    "政策咨询综合": ("想咨询一下最新的政策", "对政府工作提点意见建议", "想给区长写信",
               "政府的惠民政策在哪里能查到", "建议区里多建几个口袋公园"),
    "邻里纠纷调解": ("和邻居吵架了，希望有人调解", "邻居天天找麻烦", "楼上楼下因为噪音闹矛盾",
               "隔壁把空调外机装到我家窗口，谈不拢", "邻居家的树枝伸到我院子里，说了也不听"),
    "楼道堆物": ("楼道里堆满了杂物", "消防通道被堵住了", "邻居把旧家具放在楼梯口",
             "楼梯间被人堆了纸箱和旧电瓶", "安全出口被自行车和鞋柜挡住了"),
    "小区停车": ("小区里乱停车", "车位被别人占了", "小区停车位太少",
             "外来车辆随便开进小区停", "消防车道上天天停满私家车"),
    "困难救助": ("想申请低保", "家里困难，想申请救助", "残疾补贴怎么领",
             "老伴生病花光了积蓄，能不能给点补助", "孤寡老人生活困难没人照顾"),
    "老旧小区改造": ("老小区什么时候改造", "想加装电梯", "旧改工程一直拖着",
               "老房子外墙脱落，盼着早点改造", "加装电梯一楼住户不同意，怎么协调"),
    "小区饲养家禽": ("楼上养鸽子很吵很脏", "邻居在小区里养鸡", "有人在绿化带里养鸭子",
               "天台上养了一大群鸽子，羽毛到处飞", "公鸡天不亮就打鸣"),
}

# Train and held-out sentence frames are disjoint ({p}: the paraphrase; {w}: a place).
TRAIN_FRAMES = ("{o}{w}{p}，{e}", "{o}{p}，{e}", "{w}{p}。{e}", "{o}反映一下，{w}{p}，{e}",
                "{p}，{w}，{e}")
HELD_FRAMES = ("{w}那边{p}，已经一个礼拜了，{e}", "请问{p}这种情况找哪个部门？{e}",
               "{p}！！{w}，{e}", "{o}就是{w}嘛，{p}，{e}")
TRAIN_OPENERS = ("你好，", "喂，", "我想投诉，", "我要反映，", "")
HELD_OPENERS = ("麻烦你们，", "领导你好，", "打扰一下，")
TRAIN_PLACES = ("我们小区", "我家楼下", "单位附近", "学校旁边")
HELD_PLACES = ("公园旁边", "菜场边上", "地铁站出口")
TRAIN_ENDINGS = ("希望尽快处理。", "请相关部门管一管。", "都好几天了没人管。", "能不能派人来看看？")
HELD_ENDINGS = ("拜托快点解决。", "打了好几次电话了。", "谢谢。")
# Ningbo / Wu words a caller may use (either split).
DIALECT = (("我们", "阿拉"), ("你们", "侬"), ("很", "交关"), ("不", "弗"), ("今天", "今朝"),
           ("晚上", "夜到"), ("家里", "屋里"), ("什么", "啥西"), ("谁", "啥人"))
# Homophone slips of fast typing (pinyin input).
TYPOS = {"噪": "燥", "圾": "级", "垃": "拉", "资": "姿", "梯": "题", "停": "亭", "漏": "露",
         "欠": "歉", "医": "衣", "费": "废", "污": "乌", "臭": "丑", "狗": "苟", "坑": "炕",
         "业": "叶", "证": "正", "施": "师", "电": "店", "车": "扯", "道": "到", "水": "谁"}


def catalogue_rows() -> list[dict[str, str]]:
    with CATALOGUE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def noisy(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """The text with dialect words, typos or a dropped character, and which were applied."""
    kinds = []
    if rng.random() < 0.3:
        before = text
        for plain, dialect in DIALECT:
            if plain in text and rng.random() < 0.7:
                text = text.replace(plain, dialect)
        kinds += ["dialect"] if text != before else []
    if rng.random() < 0.3:
        chars = list(text)
        spots = [i for i, c in enumerate(chars) if c in TYPOS]
        for i in rng.sample(spots, min(len(spots), rng.randint(1, 2))):
            chars[i] = TYPOS[chars[i]]
        kinds += ["typo"] if spots else []
        text = "".join(chars)
    if rng.random() < 0.1 and len(text) > 8:  # a dropped character
        i = rng.randrange(len(text))
        text = text[:i] + text[i + 1:]
        kinds.append("dropped")
    return text, kinds


def _region(row: dict[str, str], rng: random.Random) -> str:
    region = row["region"] if row["region"] != "甬江区" else rng.choice(REGIONS)
    if region in COMMUNITIES and rng.random() < 0.4:
        region += rng.choice(COMMUNITIES[region])
    return region


def request(row: dict[str, str], split: str, rng: random.Random,
            others: list[str]) -> dict[str, Any]:
    """One request for the catalogue row, in the split's own wording."""
    phrases = PHRASES[row["item"]]
    held = split == "held_out"
    phrase = rng.choice(phrases if held else phrases[:-1])
    frame = rng.choice(HELD_FRAMES if held else TRAIN_FRAMES)
    text = frame.format(o=rng.choice(HELD_OPENERS if held else TRAIN_OPENERS),
                        w=rng.choice(HELD_PLACES if held else TRAIN_PLACES), p=phrase,
                        e=rng.choice(HELD_ENDINGS if held else TRAIN_ENDINGS))
    kinds = []
    if rng.random() < 0.15:  # a second, minor topic after the main one
        other = rng.choice(others)
        text += f"另外{other}也要管一下。"
        kinds.append("aside")
    text, noise = noisy(text, rng)
    if held and phrase == phrases[-1]:
        kinds.append("unseen_paraphrase")
    if row["region"] != "甬江区":
        kinds.append("region_dependent")
    return {"split": split, "text": text, "category": rng.choice(CATEGORIES),
            "region": _region(row, rng), "item": row["code"], "dept": row["lead"],
            "kinds": kinds + noise}


def others_of(item: str) -> list[str]:
    """Train paraphrases of every other item (the asides of a mixed request)."""
    return [p for name, ps in PHRASES.items() if name != item for p in ps[:-1]]


def generate() -> Iterator[dict[str, Any]]:
    rng = random.Random(SEED)
    rows = catalogue_rows()
    missing = {row["item"] for row in rows} - set(PHRASES)
    assert not missing, f"no paraphrases for {missing}"
    seen: set[tuple[str, str]] = set()
    number = 0
    for row in rows:
        others = others_of(row["item"])
        made = 0
        while made < PER_ITEM:
            split = "held_out" if made < HELD_OUT else "train"
            made_request = request(row, split, rng, others)
            key = (made_request["text"], made_request["region"])
            if key in seen:
                continue  # no request twice (and none in both splits)
            seen.add(key)
            number += 1
            made += 1
            yield {"id": f"D{number:05d}", **made_request}


def load(split: str | None = None, path: Path = CORPUS) -> list[dict[str, Any]]:
    """The corpus records (of one split)."""
    with path.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return [r for r in records if split is None or r["split"] == split]


def main() -> None:
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    with CORPUS.open("w", encoding="utf-8") as out:
        for record in generate():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    records = load()
    held = sum(1 for r in records if r["split"] == "held_out")
    print(f"{len(records)} requests ({len(records) - held} train, {held} held out) "
          f"from {len({r['item'] for r in records})} catalogue items -> {CORPUS}")


if __name__ == "__main__":
    main()
