#!/bin/sh
# Word statistics for one text file, with nothing but POSIX sh, awk and sort.
#   counts.tsv   word, count: every word, most frequent first (ties alphabetical)
#   lengths.tsv  length, occurrences, distinct: how many words of each length (in characters)
#   lengths.svg  a bar chart of lengths.tsv
# A word is a run of ASCII letters, digits, apostrophes and non-ASCII characters (so "café" and
# "don't" are one word), less the common Unicode punctuation (U+2000-206F, U+00A0-00BF, × and ÷);
# curly apostrophes count as straight ones, and apostrophes around a word are dropped.
# --lowercase folds ASCII letters only.
set -eu

usage() {
    echo "usage: wordstats.sh --input FILE [--min-length N] [--top N] [--lowercase] [--output-dir DIR]" >&2
    exit 2
}

input= min_length=1 top=20 lowercase=0 out=.
while [ $# -gt 0 ]; do
    case $1 in
        --input) [ $# -ge 2 ] || usage; input=$2; shift 2 ;;
        --min-length) [ $# -ge 2 ] || usage; min_length=$2; shift 2 ;;
        --top) [ $# -ge 2 ] || usage; top=$2; shift 2 ;;
        --output-dir) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        --lowercase) lowercase=1; shift ;;
        *) echo "wordstats: unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$input" ] || usage
for n in "$min_length" "$top"; do
    case $n in '' | *[!0-9]*) echo "wordstats: not a whole number: $n" >&2; exit 2 ;; esac
done
if [ ! -r "$input" ]; then
    echo "wordstats: cannot read $input" >&2
    exit 1
fi
mkdir -p "$out"

# Bytes, not characters, for awk and sort: the same results whatever the machine's locale is.
LC_ALL=C
export LC_ALL
tab=$(printf '\t')
unsorted="$out/.counts.$$"
trap 'rm -f "$unsorted"' EXIT

# 1. Count the words. Lengths count UTF-8 characters: every byte but continuation bytes (0x80-0xBF).
awk -v lower="$lowercase" -v min="$min_length" '
function chars(w,    rest) { rest = w; return length(w) - gsub(/[\200-\277]/, "", rest) }
{
    line = lower ? tolower($0) : $0
    gsub(/\342\200[\230\231]/, "\047", line)
    gsub(/\342\200[\200-\277]|\342\201[\200-\257]|\302[\240-\277]|\303[\227\267]/, " ", line)
    gsub(/[^A-Za-z0-9\047\200-\377]+/, " ", line)
    n = split(line, words, " ")
    for (i = 1; i <= n; i++) {
        w = words[i]
        sub(/^\047+/, "", w)
        sub(/\047+$/, "", w)
        if (w != "" && chars(w) >= min) count[w]++
    }
}
END { for (w in count) printf "%s\t%d\n", w, count[w] }' "$input" > "$unsorted"

{
    printf 'word\tcount\n'
    sort -t "$tab" -k2,2nr -k1,1 "$unsorted"
} > "$out/counts.tsv"

# 2. The length distribution, the chart and the summary, from counts.tsv.
awk -F "$tab" -v min="$min_length" -v top="$top" -v name="$(basename "$input")" \
    -v lengths="$out/lengths.tsv" -v svg="$out/lengths.svg" '
function chars(w,    rest) { rest = w; return length(w) - gsub(/[\200-\277]/, "", rest) }
function plural(n, what) { return n " " what (n == 1 ? "" : "s") }
function xml(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
NR == 1 { next }
{
    len = chars($1)
    occurrences[len] += $2
    distinct[len]++
    total += $2
    characters += len * $2
    if (len > longest) longest = len
    if (NR - 1 <= top) shown[NR - 1] = sprintf("%8d  %s", $2, $1)
}
END {
    words = NR > 0 ? NR - 1 : 0
    print "length\toccurrences\tdistinct" > lengths
    for (l = min; l <= longest; l++) printf "%d\t%d\t%d\n", l, occurrences[l], distinct[l] > lengths

    printf "file:         %s\n", name
    printf "words:        %d (%d distinct, at least %s long)\n", total, words, plural(min, "character")
    if (total > 0) printf "mean length:  %.2f characters\nlongest:      %d characters\n", characters / total, longest
    if (words > 0) {
        printf "\nmost frequent words:\n"
        for (i = 1; i <= words && i <= top; i++) print shown[i]
    }
    chart(name, total)
}

# A bar chart: y axis on a 1-2-5 scale with grid lines, one bar per length, labels thinned when crowded.
function chart(name, total,    W, H, left, right, plot_top, bottom, pw, ph, n, peak, l, raw, mag, step, q, ymax, y, slot, bw, x, h, every) {
    W = 720; H = 420; left = 72; right = 24; plot_top = 64; bottom = 64
    pw = W - left - right; ph = H - plot_top - bottom
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif\">\n", W, H, W, H > svg
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n" > svg
    printf "<text x=\"%d\" y=\"28\" font-size=\"18\" font-weight=\"600\" fill=\"#1f2933\">Word length distribution</text>\n", left > svg
    printf "<text x=\"%d\" y=\"48\" font-size=\"12\" fill=\"#52606d\">%s: %s of at least %s</text>\n", left, xml(name), plural(total, "word"), plural(min, "character") > svg
    n = longest - min + 1
    if (total == 0 || n < 1) {
        printf "<text x=\"%d\" y=\"%d\" font-size=\"14\" fill=\"#52606d\" text-anchor=\"middle\">No words to plot</text>\n</svg>\n", left + pw / 2, plot_top + ph / 2 > svg
        return
    }
    peak = 0
    for (l = min; l <= longest; l++) if (occurrences[l] > peak) peak = occurrences[l]
    raw = peak / 5; mag = 1
    while (mag * 10 <= raw) mag *= 10
    step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag
    # Headroom above the tallest bar for its label.
    q = peak * 1.08 / step
    ymax = step * (q == int(q) ? q : int(q) + 1)
    for (y = 0; y <= ymax; y += step) {
        h = plot_top + ph - ph * y / ymax
        printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\"/>\n", left, h, left + pw, h, y == 0 ? "#323f4b" : "#e4e7eb" > svg
        printf "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#52606d\" text-anchor=\"end\" dominant-baseline=\"middle\">%d</text>\n", left - 8, h, y > svg
    }
    slot = pw / n; bw = slot * 0.78 > 56 ? 56 : slot * 0.78; every = int((n + 29) / 30)
    for (l = min; l <= longest; l++) {
        x = left + (l - min) * slot + (slot - bw) / 2
        h = ph * occurrences[l] / ymax
        printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" fill=\"#3e7cb1\"><title>%d characters: %d occurrences, %d distinct words</title></rect>\n", x, plot_top + ph - h, bw, h, l, occurrences[l], distinct[l] > svg
        if (n <= 24 && occurrences[l] > 0)
            printf "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#323f4b\" text-anchor=\"middle\">%d</text>\n", x + bw / 2, plot_top + ph - h - 4, occurrences[l] > svg
        if ((l - min) % every == 0)
            printf "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#52606d\" text-anchor=\"middle\">%d</text>\n", x + bw / 2, plot_top + ph + 16, l > svg
    }
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#323f4b\" stroke-width=\"1\"/>\n", left, plot_top, left, plot_top + ph > svg
    printf "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#323f4b\" text-anchor=\"middle\">word length (characters)</text>\n", left + pw / 2, H - 20 > svg
    printf "<text transform=\"translate(20 %d) rotate(-90)\" font-size=\"12\" fill=\"#323f4b\" text-anchor=\"middle\">occurrences</text>\n", plot_top + ph / 2 > svg
    printf "</svg>\n" > svg
}' "$out/counts.tsv"
