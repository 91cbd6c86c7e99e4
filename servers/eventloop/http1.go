package main

// http1.go: incremental HTTP/1.1 request parsing over the bytes gnet hands a
// connection. Nothing here touches a socket; conn.go feeds it.
//
// Why a hand-written parser. The brief preferred a library parser, and the
// candidate was fasthttp's Request.ReadLimitBody over a reused bufio.Reader.
// Run against net/http on the same bytes (fuzz_test.go's oracle), fasthttp
// v1.74.0 decides differently on inputs a server must answer the same way
// as the lab's other servers, for example:
//
//   - "GET /%zz HTTP/1.1" and "Host: a b": fasthttp accepts, net/http 400;
//   - "Host:" (empty) on HTTP/1.1, or two identical Content-Length headers:
//     net/http accepts, fasthttp 400;
//   - "GET / HTTP/2.0": fasthttp serves it, net/http answers 505;
//   - HTTP/1.0 with "Transfer-Encoding: chunked" and a Content-Length:
//     net/http ignores the coding and reads the length, fasthttp refuses.
//
// It also cannot resume: an incomplete head or body is an error ("unexpected
// EOF"), so each read would re-parse the request from its first byte, and
// every refusal formats an error message (allocations).
//
// So this file mirrors the decisions of net/http (net/textproto's
// ReadMIMEHeader, http.ReadRequest and the checks of net/http's server) step
// for step, over a byte slice that grows between calls, without allocating
// on the common path. The hard part it does not repeat: targets that do not
// start with "/" go to url.ParseRequestURI itself. fuzz_test.go holds the two
// to the same accept/reject decision, method, target, body and keep-alive.

import (
	"bytes"
	"net/url"
	"unsafe"

	"golang.org/x/net/http/httpguts"

	"github.com/serverlab/lab/internal/contract"
)

// Refusals of the protocol layer beyond the contract's ones. Like the
// contract's errors they are shared values and must not be modified.
var (
	errUnsupportedTE = &contract.Error{Status: 501, Msg: "unsupported transfer encoding"}
	errHTTPVersion   = &contract.Error{Status: 505, Msg: "unsupported HTTP version"}
	errExpectation   = &contract.Error{Status: 417, Msg: "unsupported Expect header"}
)

// parseStatus is what one parsing step concluded.
type parseStatus uint8

const (
	parseOK    parseStatus = iota // a whole head (or body) was read
	parseMore                     // incomplete: keep every byte and call again with more
	parseError                    // refuse the request and close the connection
)

// head is one parsed request head. Its slices alias the parsed bytes or the
// loop's scratch; they are valid only during the callback that parsed them
// and nothing may keep them.
type head struct {
	method, target []byte // as sent
	path, query    []byte // the decoded path (URL.Path) and the raw query, for routing
	major, minor   uint8  // HTTP/major.minor
	close          bool   // close after this request's response (net/http's shouldClose)
	continue100    bool   // Expect: 100-continue with a body: send 100 Continue before reading it
	chunked        bool   // body in chunked transfer coding
	length         int64  // body length when not chunked
	size           int    // bytes of the head, request line to blank line included
}

// hasBody reports whether a body follows the head.
func (h *head) hasBody() bool { return h.chunked || h.length > 0 }

// scratch is a loop's reusable memory for the parser: the decoded path and
// folded header values. One loop owns it; a head's slices may point into it
// until the next parse on that loop.
type scratch struct {
	path   []byte
	fields []byte
}

// headParser is the resumable state of reading one request head. It lives in
// the connection state (keep it small: it is paid per idle connection) and
// records only offsets into the unconsumed input, which gnet keeps between
// calls until the head is complete.
type headParser struct {
	lineEnd              int32 // offset just past the request line; 0 until it is read
	methodEnd, targetEnd int32 // the request line's two spaces
	query                int32 // offset of the target's '?', or 0
	major, minor         uint8
	escaped              bool // the target's path holds a %-escape
	fields               fieldScan
}

// parse reads a request head from b, which holds every unconsumed byte of the
// connection, starting where the last call stopped. On parseOK, h is filled
// and h.size bytes make up the head; on parseError, err says what to answer.
func (p *headParser) parse(b []byte, h *head, sc *scratch) (parseStatus, *contract.Error) {
	if p.lineEnd == 0 {
		if st, err := p.requestLine(b); st != parseOK {
			return st, err
		}
		p.fields = fieldScan{pos: p.lineEnd, start: p.lineEnd}
	}
	// When the whole field block is read in this call (the common case),
	// scan collects what finish needs as it goes; otherwise finish walks
	// the block again.
	var fi fieldInfo
	fi.complete = p.fields.pos == p.fields.start
	end, st, err := p.fields.scan(b, contract.MaxHeaderBytes, &fi)
	if st != parseOK {
		return st, err
	}
	if err := p.finish(b[:end], h, sc, &fi); err != nil {
		return parseError, err
	}
	return parseOK, nil
}

// requestLine reads the request line once it is whole and judges it as
// http.ReadRequest does (parseRequestLine, validMethod, ParseHTTPVersion,
// url.ParseRequestURI), in one pass over its bytes for origin-form targets.
func (p *headParser) requestLine(b []byte) (parseStatus, *contract.Error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 || i+1 > contract.MaxHeaderBytes {
		if len(b) > contract.MaxHeaderBytes {
			return parseError, contract.ErrHeaderTooLarge
		}
		return parseMore, nil
	}
	line := trimEOL(b[:i+1])
	// The method: a token up to the first space.
	sp1 := -1
	for j, c := range line {
		if !tokenByte[c] {
			if c == ' ' {
				sp1 = j
			}
			break
		}
	}
	if sp1 <= 0 {
		return parseError, contract.ErrMalformed
	}
	// The target, up to the next space: note its '?', a '%' in its path,
	// and any control byte.
	sp2, query := -1, 0
	ctl, pct := false, false
	for j := sp1 + 1; j < len(line); j++ {
		if k := targetClass[line[j]]; k != 0 {
			switch k {
			case tcSpace:
				sp2 = j
			case tcCTL:
				ctl = true
			case tcQuery:
				if query == 0 {
					query = j
				}
			case tcPercent:
				pct = pct || query == 0
			}
			if sp2 >= 0 {
				break
			}
		}
	}
	if sp2 < 0 {
		return parseError, contract.ErrMalformed
	}
	major, minor, ok := parseVersion(line[sp2+1:])
	if !ok {
		return parseError, contract.ErrMalformed
	}
	target := line[sp1+1 : sp2]
	if len(target) > 0 && target[0] == '/' {
		// ParseRequestURI fails on such a target only for a control byte
		// or a malformed %-escape in the path.
		if ctl || pct && !validEscapes(line[sp1+1:pathEnd(sp2, query)]) {
			return parseError, contract.ErrMalformed
		}
	} else if !validTarget(line[:sp1], target) {
		return parseError, contract.ErrMalformed
	}
	p.lineEnd, p.methodEnd, p.targetEnd, p.query = int32(i+1), int32(sp1), int32(sp2), int32(query)
	p.major, p.minor, p.escaped = major, minor, pct
	return parseOK, nil
}

// Classes of target bytes that requestLine looks at; 0 for the others.
const (
	tcSpace = 1 + iota
	tcCTL
	tcQuery
	tcPercent
)

var targetClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = tcCTL
	}
	t[0x7f] = tcCTL
	t[' '], t['?'], t['%'] = tcSpace, tcQuery, tcPercent
	return t
}()

func pathEnd(targetEnd, query int) int {
	if query > 0 {
		return query
	}
	return targetEnd
}

// validEscapes reports whether every '%' in path starts a %XX escape.
func validEscapes(path []byte) bool {
	for i := 0; i < len(path); i++ {
		if path[i] == '%' {
			if i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// finish applies, to a complete head, the checks http.ReadRequest and
// net/http's server make once the header block has been read, in their
// order, and fills h. fi holds the fields' facts if scan could collect them.
func (p *headParser) finish(b []byte, h *head, sc *scratch, fi *fieldInfo) *contract.Error {
	*h = head{size: len(b), major: p.major, minor: p.minor}
	h.method, h.target = b[:p.methodEnd], b[p.methodEnd+1:p.targetEnd]
	if !fi.complete || p.fields.folded {
		*fi = fieldInfo{}
		sc.fields = sc.fields[:0]
		it := fieldIter{b: b, pos: int(p.fields.start), folded: p.fields.folded, buf: &sc.fields}
		for {
			key, val, ok := it.next()
			if !ok {
				break
			}
			fi.add(key, val)
		}
	}
	if fi.hosts > 1 { // http.ReadRequest: "too many Host headers"
		return contract.ErrMalformed
	}
	atLeast11 := p.major > 1 || p.major == 1 && p.minor >= 1
	// Transfer-Encoding is ignored before HTTP/1.1, and must otherwise be
	// exactly one "chunked" (net/http's parseTransferEncoding: 501 if not).
	// readTransfer takes HTTP/0.0 for 1.1; the version is refused below.
	if fi.codings > 0 && (atLeast11 || p.major == 0 && p.minor == 0) {
		if fi.codings != 1 || !equalFold(fi.coding, "chunked") {
			return errUnsupportedTE
		}
		h.chunked = true
	}
	// Several Content-Length values must agree once trimmed
	// (textproto.TrimString), and are validated even when chunked coding
	// overrides them.
	if fi.lengthMismatch {
		return contract.ErrMalformed
	}
	if fi.lengths > 0 {
		n, ok := parseContentLength(fi.length)
		if !ok {
			return contract.ErrMalformed
		}
		if !h.chunked {
			h.length = n
		}
	}
	if fi.badTrailer && h.chunked {
		return contract.ErrMalformed
	}
	// The checks of net/http's server after ReadRequest.
	if p.major != 1 {
		return errHTTPVersion
	}
	if atLeast11 && fi.hosts == 0 && string(h.method) != "CONNECT" {
		return contract.ErrMissingHost
	}
	if fi.hosts == 1 && !httpguts.ValidHostHeader(bstr(fi.host)) {
		return contract.ErrMalformed
	}
	if p.fields.nameSpace { // textproto keeps "Foo Bar:", the server refuses it
		return contract.ErrMalformed
	}
	if hasToken(fi.expect, "100-continue") {
		h.continue100 = atLeast11 && h.hasBody()
	} else if len(fi.expect) > 0 {
		return errExpectation
	}
	if h.length > contract.MaxBodyBytes {
		return contract.ErrBodyTooLarge
	}
	if p.minor == 0 {
		h.close = fi.closeTok || !fi.keepAliveTok
	} else {
		h.close = fi.closeTok
	}
	return p.routeTarget(b, h, sc)
}

// fieldInfo is what finish needs from the header fields. Its slices alias
// the head (or the parser's scratch for folded values).
type fieldInfo struct {
	complete                bool // scan saw every field of the block in one call
	hosts, lengths, codings int
	host, length, coding    []byte
	expect                  []byte // the first Expect value (Header.get)
	hasExpect               bool
	lengthMismatch          bool
	closeTok, keepAliveTok  bool
	badTrailer              bool
}

// add records one field as textproto stores it.
func (fi *fieldInfo) add(key, val []byte) {
	switch len(key) {
	case 4:
		if equalFold(key, "host") {
			if fi.hosts++; fi.hosts == 1 {
				fi.host = val
			}
		}
	case 14:
		if equalFold(key, "content-length") {
			if fi.lengths++; fi.lengths == 1 {
				fi.length = trimASCIISpace(val)
			} else if !bytes.Equal(fi.length, trimASCIISpace(val)) {
				fi.lengthMismatch = true
			}
		}
	case 17:
		if equalFold(key, "transfer-encoding") {
			if fi.codings++; fi.codings == 1 {
				fi.coding = val
			}
		}
	case 10:
		if equalFold(key, "connection") {
			fi.closeTok = fi.closeTok || containsToken(val, "close")
			fi.keepAliveTok = fi.keepAliveTok || containsToken(val, "keep-alive")
		}
	case 6:
		if equalFold(key, "expect") && !fi.hasExpect {
			fi.expect, fi.hasExpect = val, true
		}
	case 7:
		if equalFold(key, "trailer") {
			fi.badTrailer = fi.badTrailer || forbiddenTrailer(val)
		}
	}
}

// routeTarget sets h.path and h.query from h.target the way net/http fills
// URL.Path and URL.RawQuery.
func (p *headParser) routeTarget(b []byte, h *head, sc *scratch) *contract.Error {
	t := h.target
	if len(t) > 0 && t[0] == '/' {
		h.path = b[p.methodEnd+1 : pathEnd(int(p.targetEnd), int(p.query))]
		if p.query > 0 {
			h.query = b[p.query+1 : p.targetEnd]
		}
		if p.escaped {
			sc.path = unescapePath(sc.path[:0], h.path)
			h.path = sc.path
		}
		return nil
	}
	if string(t) == "*" {
		h.path = t
		return nil
	}
	// Absolute-form or authority-form: rare enough to allocate.
	raw := string(t)
	if string(h.method) == "CONNECT" {
		raw = "http://" + raw
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil { // requestLine accepted it already
		return contract.ErrMalformed
	}
	h.path, h.query = []byte(u.Path), []byte(u.RawQuery)
	return nil
}

// parseVersion is http.ParseHTTPVersion.
func parseVersion(v []byte) (major, minor uint8, ok bool) {
	switch string(v) {
	case "HTTP/1.1":
		return 1, 1, true
	case "HTTP/1.0":
		return 1, 0, true
	}
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || !isDigit(v[5]) || !isDigit(v[7]) {
		return 0, 0, false
	}
	return v[5] - '0', v[7] - '0', true
}

// validTarget reports whether url.ParseRequestURI accepts a request target
// that does not start with "/", as http.ReadRequest calls it.
func validTarget(method, t []byte) bool {
	raw := string(t)
	if string(method) == "CONNECT" && (len(t) == 0 || t[0] != '/') {
		raw = "http://" + raw
	}
	_, err := url.ParseRequestURI(raw)
	return err == nil
}

// unescapePath appends the %-decoded path (validTarget checked the escapes).
func unescapePath(dst, p []byte) []byte {
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			dst = append(dst, unhex(p[i+1])<<4|unhex(p[i+2]))
			i += 2
			continue
		}
		dst = append(dst, p[i])
	}
	return dst
}

// fieldScan reads header fields the way net/textproto's ReadMIMEHeader does,
// resuming at pos. Each logical field (a line plus its obs-fold continuation
// lines) is judged once whole, which needs the first byte of the line after
// it; errors come in textproto's order.
type fieldScan struct {
	pos, start int32 // next field line; first field line (no leading space allowed)
	nameSpace  bool  // a name held a space: textproto accepts it, net/http's server refuses it
	folded     bool  // some value continued on a following line
}

// scan advances over complete fields of b and returns the offset just past
// the blank line that ends them. A line ending past limit (when limit > 0)
// is refused with 431. fi, when not nil, receives each unfolded field; a
// folded one is left to finish's walk.
func (s *fieldScan) scan(b []byte, limit int, fi *fieldInfo) (end int, st parseStatus, err *contract.Error) {
	for {
		pos := int(s.pos)
		if pos >= len(b) {
			return 0, parseMore, nil
		}
		// One pass over the line: its end, the colon, the name's bytes
		// (tokens, or spaces, which textproto keeps and the server
		// refuses), the value's (a CR is bad unless it ends the line).
		colon, bad, space := -1, false, false
		e := pos
	line:
		for ; e < len(b); e++ {
			c := b[e]
			if colon < 0 {
				if !tokenByte[c] {
					switch c {
					case ':':
						colon = e - pos
					case ' ':
						space = true
					case '\n':
						break line
					default:
						bad = true
					}
				}
			} else if !valueByte[c] {
				switch {
				case c == '\n':
					break line
				case c == '\r' && e+1 < len(b) && b[e+1] == '\n':
				default:
					bad = true
				}
			}
		}
		if e == len(b) {
			if limit > 0 && len(b) > limit {
				return 0, parseError, contract.ErrHeaderTooLarge
			}
			return 0, parseMore, nil
		}
		e++ // past the '\n'
		if limit > 0 && e > limit {
			return 0, parseError, contract.ErrHeaderTooLarge
		}
		if pos == int(s.start) && (b[pos] == ' ' || b[pos] == '\t') {
			return 0, parseError, contract.ErrMalformed // "malformed MIME header initial line"
		}
		line := trimEOL(b[pos:e])
		if len(line) == 0 {
			s.pos = int32(e)
			return e, parseOK, nil
		}
		if colon < 0 {
			return 0, parseError, contract.ErrMalformed // "missing colon"
		}
		// Continuation lines start with a space or a tab. The field is
		// judged once the first byte after it shows where it ends.
		q, folded := e, false
		for {
			if q >= len(b) {
				if limit > 0 && len(b) > limit {
					return 0, parseError, contract.ErrHeaderTooLarge
				}
				return 0, parseMore, nil
			}
			if b[q] != ' ' && b[q] != '\t' {
				break
			}
			j := bytes.IndexByte(b[q:], '\n')
			if j < 0 {
				if limit > 0 && len(b) > limit {
					return 0, parseError, contract.ErrHeaderTooLarge
				}
				return 0, parseMore, nil
			}
			if !validValue(trimEOL(b[q : q+j+1])) {
				bad = true
			}
			q += j + 1
			if limit > 0 && q > limit {
				return 0, parseError, contract.ErrHeaderTooLarge
			}
			folded = true
		}
		if bad || colon == 0 {
			return 0, parseError, contract.ErrMalformed
		}
		s.nameSpace = s.nameSpace || space
		s.pos = int32(q)
		if folded {
			s.folded = true
		} else if fi != nil {
			fi.add(line[:colon], trimOWS(line[colon+1:]))
		}
	}
}

// fieldIter walks the complete fields of a head (or trailer) from pos,
// yielding each name and its value as textproto stores it: continuation
// lines joined by one space, leading blanks of the value removed. Unfolded
// values alias b; folded ones are assembled in *buf, which only grows during
// one walk so that earlier values stay valid.
type fieldIter struct {
	b      []byte
	pos    int
	folded bool
	buf    *[]byte
}

func (it *fieldIter) next() (key, val []byte, ok bool) {
	b := it.b
	i := bytes.IndexByte(b[it.pos:], '\n')
	if i < 0 {
		return nil, nil, false
	}
	e := it.pos + i + 1
	line := trimOWS(trimEOL(b[it.pos:e]))
	if len(line) == 0 {
		return nil, nil, false
	}
	colon := bytes.IndexByte(line, ':')
	key, val = line[:colon], line[colon+1:]
	it.pos = e
	if it.folded && it.pos < len(b) && (b[it.pos] == ' ' || b[it.pos] == '\t') {
		start := len(*it.buf)
		*it.buf = append(*it.buf, val...)
		for it.pos < len(b) && (b[it.pos] == ' ' || b[it.pos] == '\t') {
			j := bytes.IndexByte(b[it.pos:], '\n')
			*it.buf = append(*it.buf, ' ')
			*it.buf = append(*it.buf, trimOWS(trimEOL(b[it.pos:it.pos+j+1]))...)
			it.pos += j + 1
		}
		val = (*it.buf)[start:]
	}
	for len(val) > 0 && (val[0] == ' ' || val[0] == '\t') {
		val = val[1:]
	}
	return key, val, true
}

// forbiddenTrailer reports whether a Trailer header value names a field that
// net/http refuses as a trailer (fixTrailer).
func forbiddenTrailer(v []byte) bool {
	for len(v) > 0 {
		var el []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			el, v = v[:i], v[i+1:]
		} else {
			el, v = v, nil
		}
		el = trimASCIISpace(el)
		if equalFold(el, "transfer-encoding") || equalFold(el, "trailer") || equalFold(el, "content-length") {
			return true
		}
	}
	return false
}

// parseContentLength is net/http's: a trimmed, non-empty decimal that fits
// in 63 bits (strconv.ParseUint(s, 10, 63)).
func parseContentLength(s []byte) (int64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		if n > (1<<63-1)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 1<<63-1 {
			return 0, false
		}
	}
	return int64(n), true
}

// containsToken is httpguts.HeaderValuesContainsToken for one value: a
// comma-separated list, blanks trimmed, compared ASCII case-insensitively.
func containsToken(v []byte, token string) bool {
	for {
		el := v
		i := bytes.IndexByte(v, ',')
		if i >= 0 {
			el = v[:i]
		}
		if el = trimOWS(el); len(el) == len(token) {
			match := true
			for k := range el {
				if el[k] >= 0x80 || lower(el[k]) != token[k] {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
		if i < 0 {
			return false
		}
		v = v[i+1:]
	}
}

// hasToken is net/http's hasToken (used for Expect): token, lower case,
// appears in v between spaces, commas or tabs.
func hasToken(v []byte, token string) bool {
	if len(token) > len(v) || token == "" {
		return false
	}
	for sp := 0; sp <= len(v)-len(token); sp++ {
		if b := v[sp]; b != token[0] && b|0x20 != token[0] {
			continue
		}
		if sp > 0 && !isTokenBoundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !isTokenBoundary(v[end]) {
			continue
		}
		if equalFold(v[sp:sp+len(token)], token) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// equalFold reports whether b equals the lower-case ASCII string s, ASCII
// case-insensitively (net/http's ascii.EqualFold).
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// trimEOL drops a final "\n" and a "\r" before it, as bufio.Reader.ReadLine does.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// trimOWS drops leading and trailing spaces and tabs.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// trimASCIISpace is textproto.TrimString: spaces, tabs, CR and LF.
func trimASCIISpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// valueByte marks the bytes validValue accepts.
var valueByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c == '\t' || c >= 0x20 && c != 0x7f
	}
	return t
}()

// validValue reports whether every byte may appear in a field value:
// HTAB, SP, VCHAR and obs-text (textproto's validHeaderValueByte).
func validValue(v []byte) bool {
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// tokenByte marks the bytes of an RFC 7230 token.
var tokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= lower(c) && lower(c) <= 'f' }

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return lower(c) - 'a' + 10
}

// bstr views b as a string without copying, for callees that do not keep it.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
