package page

import (
	"strings"
	"unicode"
)

// primaryLanguage reduces a declared language ("ko-KR", "en_US",
// "ko, en") to its primary subtag, lowercased; "" when it is not one.
func primaryLanguage(decl string) string {
	decl = strings.TrimSpace(decl)
	if i := strings.IndexByte(decl, ','); i >= 0 {
		decl = decl[:i]
	}
	if i := strings.IndexAny(decl, "-_"); i >= 0 {
		decl = decl[:i]
	}
	decl = strings.ToLower(strings.TrimSpace(decl))
	if len(decl) < 2 || len(decl) > 3 {
		return ""
	}
	for _, c := range decl {
		if c < 'a' || c > 'z' {
			return ""
		}
	}
	return decl
}

// detectLanguage guesses a language from the script of the letters of the
// title and the first 64 KiB of text, when the page declares none: the
// script used by more than half of the letters decides (Hangul -> "ko",
// kana -> "ja", Han without kana -> "zh", Cyrillic -> "ru", Latin -> "en").
// Latin stands for English because no closer guess is possible without a
// statistical model, and English is what a Latin-script page in the zones
// crawl archives most often is. Fewer than 8 letters: unknown ("").
func detectLanguage(title, text string) string {
	const sample = 64 << 10
	if len(text) > sample {
		text = text[:sample]
	}
	var hangul, kana, han, latin, cyrillic, total int
	count := func(s string) {
		for _, r := range s {
			if r < 0x80 {
				// Most of most pages: ASCII letters are Latin, and
				// the rest is not a letter (no table lookups).
				if 'a' <= r|0x20 && r|0x20 <= 'z' {
					total++
					latin++
				}
				continue
			}
			if !unicode.IsLetter(r) {
				continue
			}
			total++
			switch {
			case unicode.Is(unicode.Hangul, r):
				hangul++
			case unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
				kana++
			case unicode.Is(unicode.Han, r):
				han++
			case unicode.Is(unicode.Latin, r):
				latin++
			case unicode.Is(unicode.Cyrillic, r):
				cyrillic++
			}
		}
	}
	count(title)
	count(text)
	if total < 8 {
		return ""
	}
	switch {
	case hangul*2 > total:
		return "ko"
	case kana > 0 && (kana+han)*2 > total:
		return "ja"
	case han*2 > total:
		return "zh"
	case cyrillic*2 > total:
		return "ru"
	case latin*2 > total:
		return "en"
	}
	return ""
}
