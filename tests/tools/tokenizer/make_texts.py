#!/usr/bin/env python3
# Writes texts.jsonl: the inputs the tokenizer vectors are built from (hand-written cases plus
# seeded random mixtures of hand-written fragments). Run once; texts.jsonl is committed.
import json, random

T = []
def add(*xs): T.extend(xs)

# English, contractions (the (?i:'s|'t|...) branch, any case), apostrophe variants
add("Hello world", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll like it; they've said we'd go, and it's John's.",
    "DON'T SHOUT, I'LL HEAR YOU. WE'RE HERE. SHE'D KNOW. IT'S MINE",
    "don't can't won't shouldn't y'all ma'am o'clock rock'n'roll",
    "it’s a curly apostrophe ’s ’t", "'s 't 're 've 'm 'll 'd", "'S'T'RE'VE'M'LL'D", "''''", "'",
    "He said \"hello\" and 'goodbye'.", "e.g. i.e. etc. Mr. Mrs. Dr.", "Ünïcödé wörds ärë fün",
    "naïve café résumé coöperate façade", "ſ 's 'ſ 'K 'k", "CamelCaseIdentifiersAreCommonInCode",
    "snake_case_identifier = another_one", "kebab-case-words-here", "UPPER lower MiXeD")
# multilingual
add("你好，世界！", "我爱自然语言处理。今天天气很好，我们去公园散步吧。",
    "中文、日本語、한국어 mixed with English words",
    "日本語のテキストです。カタカナとひらがなと漢字。", "東京都は日本の首都です",
    "안녕하세요 세계! 한국어 텍스트입니다.", "Привет, мир! Как дела?", "Ελληνικά γράμματα: αβγδε ΑΒΓΔΕ",
    "مرحبا بالعالم! هذا نص عربي.", "שלום עולם, זה טקסט בעברית", "नमस्ते दुनिया, यह हिंदी पाठ है।",
    "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่าง", "Xin chào thế giới! Tiếng Việt có dấu.",
    "Türkçe: İstanbul ığdır şğü", "Ελλάδα και Κύπρος", "Ꭰ Ꮳ Ᏼ Cherokee", "ქართული ენა",
    "Հայերեն լեզու", "ትግርኛ ኣማርኛ", "தமிழ் மொழி", "বাংলা ভাষা", "ਪੰਜਾਬੀ", "ગુજરાતી",
    "සිංහල", "ພາສາລາວ", "ខ្មែរ", "မြန်မာ", "བོད་ཡིག", "ᠮᠣᠩᠭᠣᠯ", "ᚠᚢᚦᚨᚱᚲ runes",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝐁𝐨𝐥𝐝", "𓀀𓀁𓀂 hieroglyphs", "𠀀𠀁𠀂 rare CJK ext B", "ａｂｃ　ＡＢＣ　１２３ fullwidth")
# emoji: ZWJ, skin tones, flags, keycaps, variation selectors
add("👍", "👍🏽👍🏿👋🏻", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 🏴‍☠️", "🇫🇷🇩🇪🇯🇵🇺🇸", "1️⃣2️⃣#️⃣",
    "❤️ ❤ ♥️", "🧑🏽‍💻 coding", "👩🏾‍🤝‍👩🏻", "😀😃😄😁😆😅🤣😂", "I love 🍕 and 🍣!", "🙂‍↔️ 🐦‍🔥",
    "emoji🙂inside🙂words", "🤖:beep boop", "☺︎ text style ☺️ emoji style")
# code, tabs, runs of spaces/newlines, CRLF
add("def f(x):\n    return x * 2\n",
    "def main():\n\tif True:\n\t\tprint('tabs')\n\treturn 0\n",
    "int main(int argc, char** argv) {\n    std::vector<int> v{1, 2, 3};\n    for (auto& x : v) x += 1;\n    return 0;\n}\n",
    "#include <iostream>\n\nint main() { std::cout << \"hi\\n\"; }\n",
    "{\"key\": \"value\", \"list\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
    "all:\n\t$(CC) -O2 -o $@ $^\n", "for i in $(seq 1 10); do echo \"$i\"; done",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
    "const re = /^[a-z0-9_\\-]+@[a-z]+\\.[a-z]{2,}$/i;",
    "x=1;y=2;z=x+y*3-4/5%6**7", "a==b!=c<=d>=e&&f||g", "arr[i][j] += m->n.o::p",
    "    four spaces", "        eight spaces", "\tone tab", "\t\t\ttree tabs", " \t mixed \t ",
    "line1\nline2\nline3", "line1\r\nline2\r\n", "\r\n\r\n", "\n\n\n\n", "a\n\n\nb",
    "a  b", "a   b", "a    b", "a     b", "trailing   ", "   leading", "   ", " ", "  ", "\t", "\n", "\r",
    "x \n y", "x  \n  y", "x \n\n y", "end with newline\n", "end with spaces and newline   \n",
    "  \n  \n  ", "word\u00a0word", "word\u3000word", "\u2003em space\u2002en", "a\u2028b\u2029c",
    "tab\tseparated\tvalues\t1\t2", "if (x) {\n\n\n    y();\n}", "    \n    \n", "\n    def",
    "```python\nprint(1)\n```", "<div class=\"x\">  <span>hi</span>  </div>",
    "// comment\n/* block\n   comment */", "# heading\n\n- item 1\n- item 2\n\n> quote",
    "| a | b |\n|---|---|\n| 1 | 2 |", "$$\\frac{a}{b} + \\sqrt{x^2}$$", "\\begin{align} x &= 1 \\\\ y &= 2 \\end{align}")
# numbers (\p{N} single digits), non-ASCII numerals
add("12345", "3.14159265358979", "1,000,000.00", "-42", "+7e-10", "0x1F2E", "2024-01-31T12:34:56Z",
    "version 1.2.3-beta+build.45", "phone: +1 (555) 123-4567", "٣٤٥ Arabic-Indic", "१२३ Devanagari",
    "½ ¼ ¾ ⅓", "x² y³ z⁴", "Ⅻ Ⅳ ⅻ roman", "①②③ circled", "１２３ fullwidth", "一二三 hanzi numerals",
    "𝟙𝟚𝟛 math digits", "99 bottles of beer", "abc123def456", "1st 2nd 3rd 4th", "$1,234.56 €99 ¥1000 £5")
# URLs, paths, emails
add("https://example.com/path/to/page?query=1&x=y#frag", "http://localhost:8080/", "ftp://a.b.c/d",
    "user.name+tag@example.co.uk", "/usr/local/bin/python3", "C:\\Users\\name\\file.txt", "~/.config/app/settings.json",
    "www.example.org", "https://zh.wikipedia.org/wiki/中文")
# special and added tokens inline
add("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nThe user greets.\n</think>\n\nHello!<|im_end|>\n",
    "<|endoftext|>", "<|endoftext|><|endoftext|>", "text<|endoftext|>more", "<|im_start|><|im_end|>",
    "<|im_start", "<|im_end", "|im_start|>", "< |im_start|>", "<|IM_START|>", "<<|im_start|>>",
    "<think>", "</think>", "<think></think>", "a<think>b</think>c", " <think> ", "<think>\n\n</think>\n\n",
    "<THINK>", "< think>", "<thinking>", "<tool_call>\n{\"name\": \"f\"}\n</tool_call>", "<tool_response>ok</tool_response>",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>", "<|vision_start|><|image_pad|><|vision_end|>",
    "<|box_start|>(1,2)<|box_end|>", "<answer>42</answer>", "<think>reason</think><answer>42</answer>",
    "  <|im_end|>  ", "\n<|im_end|>\n", "中文<|im_end|>中文", "😀<|im_start|>😀")
# NFC: combining marks that compose, reorder, singletons, Hangul jamo
add("e\u0301", "cafe\u0301", "A\u030a", "n\u0303o", "A\u0308\u0304", "e\u0301\u0323", "e\u0323\u0301",
    "\u212b ångström sign", "\u2126 ohm sign", "\u1100\u1161\u11a8 jamo", "\u1112\u1161\u11ab\u1100\u1173\u11af",
    "o\u0308\u0301", "\u0344", "\u0340\u0341", "x\u0301\u0301\u0301", "\u0301 leading combining mark",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357 zalgo",
    "\u0915\u093c \u0958 nukta", "\u05d1\u05bc\u05b0 hebrew points", "\u00c5\u0041\u030a mixed precomposed",
    "\ufb01 ligature \ufb00", "\u1e9b\u0323", "\u03d3 \u03d2\u0301")
# control and format characters, odd whitespace
add("\u0000", "a\u0000b", "\u0007bell", "\u001b[31mred\u001b[0m", "\u0085 next line", "a\u0085b",
    "\ufeffBOM at start", "zero\u200bwidth\u200bspace", "zw\u200dj\u200cnj", "\u00ad soft hyphen",
    "\u2060word joiner", "\ue000 private use \U000f0000", "\ufffd replacement", "\u000b\u000c vt ff",
    "\u180e mongolian vowel sep", "a\u180e\u180eb", "x \u180e\u180e y", "\u180e\u180e\u180e",
    "\u180e\n", "roman \u180e mongolian", "a\u2009b\u200ac", "\u202a\u202bbidi\u202c\u202e", "\U0010fffd")
# single characters and edge sizes
add("", "a", "A", "1", ".", "!", "中", "é", " a", "a ", "?!", "...", "—", "–-", "→←↑↓", "™©®", "°C", "µs", "•·")
# very long inputs
add("a" * 1000, "supercalifragilisticexpialidocious" * 40, "0123456789" * 100, " " * 1000, "\n" * 300,
    "!" * 500, "中文" * 500, "ab " * 600, "x\t" * 300, "😀" * 200, "The end. " * 200,
    "".join(chr(0x4e00 + (i * 7919) % 20000) for i in range(800)), "e\u0301" * 300,
    "Donaudampfschifffahrtsgesellschaftskapitänswitwe", "pneumonoultramicroscopicsilicovolcanoconiosis")

# seeded random mixtures of fragments
frags = [x for x in T if 0 < len(x) < 60]
seps = ["", " ", "  ", "\n", "\n\n", "\t", " \n", "\r\n", "   ", "\u00a0", ""]
rng = random.Random(20261126)
for i in range(260):
    k = rng.randint(2, 7)
    parts = []
    for _ in range(k):
        parts.append(rng.choice(frags))
        parts.append(rng.choice(seps))
    T.append("".join(parts))

# seeded random code-point soup from blocks assigned by Unicode 13 (the oldest Unicode among
# utf8proc 2.6, PCRE2 10.42 and Node's ICU), stressing the regex classes and NFC
blocks = [(0x20, 0x7E), (0xA0, 0xFF), (0x100, 0x17F), (0x300, 0x36F), (0x391, 0x3C9),
          (0x400, 0x44F), (0x5D0, 0x5EA), (0x620, 0x64A), (0x660, 0x669), (0x905, 0x939),
          (0x966, 0x96F), (0xE01, 0xE3A), (0x1100, 0x1112), (0x1161, 0x1175), (0x2000, 0x200F),
          (0x2010, 0x2027), (0x2070, 0x2079), (0x2150, 0x2182), (0x3000, 0x3003), (0x3041, 0x3096),
          (0x4E00, 0x9FA5), (0xAC00, 0xD7A3), (0xFF01, 0xFF5E), (0x1D400, 0x1D454),
          (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F3FB, 0x1F3FF), (0x9, 0xD)]
singles = [0x200D, 0xFE0F, 0x85, 0xFEFF, 0x2028, 0x2029, 0x27, 0x20, 0x20, 0x0A, 0x0D, 0x09]
for i in range(300):
    n = rng.randint(1, 40)
    cps = []
    for _ in range(n):
        if rng.random() < 0.25:
            cps.append(rng.choice(singles))
        else:
            lo, hi = rng.choice(blocks)
            cps.append(rng.randint(lo, hi))
    T.append("".join(chr(c) for c in cps))

with open("texts.jsonl", "w", encoding="utf-8") as f:
    for t in T:
        f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
print(len(T), "texts")
