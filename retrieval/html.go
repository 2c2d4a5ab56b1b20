package retrieval

import (
	"html"
	"strings"
)

// blockTags are HTML elements that break the text flow, so their boundaries
// become spaces rather than gluing words together.
var blockTags = map[string]bool{
	"p": true, "br": true, "div": true, "li": true, "ul": true, "ol": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"tr": true, "td": true, "th": true, "table": true, "section": true,
	"article": true, "blockquote": true, "hr": true, "dt": true, "dd": true,
}

// plainText strips HTML tags, comments, and script and style content from s,
// decodes entities and collapses whitespace. Text without a tag is only
// decoded and collapsed.
func plainText(s string) string {
	if !strings.Contains(s, "<") {
		return collapseSpace(html.UnescapeString(s))
	}
	var b strings.Builder
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:lt])
		s = s[lt:]
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s, "-->")
			if end < 0 {
				break
			}
			s = s[end+3:]
			continue
		}
		gt := tagEnd(s)
		if gt < 0 {
			// A lone "<" such as "3 < 5" is text.
			b.WriteString(s[:1])
			s = s[1:]
			continue
		}
		name, closing := tagName(s[1:gt])
		s = s[gt+1:]
		if !closing && (name == "script" || name == "style") {
			end := strings.Index(strings.ToLower(s), "</"+name)
			if end < 0 {
				break
			}
			s = s[end:]
			continue
		}
		if blockTags[name] {
			b.WriteByte(' ')
		}
	}
	return collapseSpace(html.UnescapeString(b.String()))
}

// tagEnd returns the index of the ">" closing the tag at the start of s,
// skipping quoted attribute values, or -1 when s does not start a tag.
func tagEnd(s string) int {
	if len(s) < 2 {
		return -1
	}
	c := s[1]
	if !(c == '/' || c == '!' || c == '?' || (c|0x20) >= 'a' && (c|0x20) <= 'z') {
		return -1
	}
	var quote byte
	for i := 1; i < len(s); i++ {
		switch {
		case quote != 0:
			if s[i] == quote {
				quote = 0
			}
		case s[i] == '"' || s[i] == '\'':
			quote = s[i]
		case s[i] == '>':
			return i
		}
	}
	return -1
}

func tagName(tag string) (string, bool) {
	closing := strings.HasPrefix(tag, "/")
	tag = strings.TrimPrefix(tag, "/")
	end := strings.IndexAny(tag, " \t\r\n/>")
	if end >= 0 {
		tag = tag[:end]
	}
	return strings.ToLower(tag), closing
}
