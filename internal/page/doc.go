// Package page turns fetched HTML and CSS into what crawl needs from them:
// the crawler takes the links, the index the title, headlines, visible text
// and language. One parser gives both the same answer.
//
// Data flow of Parse:
//
//	body + Content-Type ──IsHTML──▶ not HTML: ErrNotHTML
//	        │
//	      Decode (BOM, header charset, <meta> prescan, UTF-8 check,
//	        │     Korean fallback, windows-1252) ──▶ UTF-8 copy, charset name
//	        ▼
//	html.Tokenizer stream ──▶ title, h1–h6, visible text (textBuf, capped)
//	        │                 raw link references (+ inline CSS via ParseCSS rules)
//	        ▼
//	first <base href> ──▶ Normalize each reference ──▶ deduplicated []Link
//	        ▼
//	language: <html lang>, <meta http-equiv=content-language>,
//	          Content-Language header, else script-ratio detection
//
// Normalize is also the crawler's seen-set key: a page's links and the
// crawler's frontier agree on one spelling of every URL.
//
// Every limit (text bytes, links, headlines, headline bytes, URL length)
// is in Config with its default in DefaultConfig; hostile input (binary,
// invalid UTF-8, megabytes of nested tags) costs linear time and memory
// and never panics. The caller's bytes are never modified.
package page
