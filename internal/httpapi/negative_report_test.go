package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// goInternals are fragments of Go, driver and framework errors that must never reach a client.
var goInternals = []string{"Unmarshal", "unmarshal", "offset=", "expected=", "internal=", "code=4", "code=5",
	"strconv.", "json: ", "SQLSTATE", "pgx", "pgconn", "runtime error", "goroutine", "panic:", "nil pointer", "%!"}

func leaksInternals(s string) bool {
	return slices.ContainsFunc(goInternals, func(frag string) bool { return strings.Contains(s, frag) })
}

// judge lists what is wrong with the answer to a case (nothing when it is right).
func judge(c negCase, who negCaller, res negResult) (problems []string, code string) {
	if res.err != nil {
		return []string{"no answer: " + res.err.Error()}, ""
	}
	if res.status >= 500 {
		problems = append(problems, "5xx")
	}
	w := c.want
	if w.protocol {
		if res.status != w.status {
			problems = append(problems, fmt.Sprintf("want %d", w.status))
		}
		return problems, ""
	}
	if res.specErr != nil {
		problems = append(problems, "not as the spec documents: "+firstLine(res.specErr.Error()))
	}
	var e errorShape
	if res.status >= 400 {
		_ = json.Unmarshal(res.body, &e)
		code = e.Error.Code
		if e.Error.Code == "" || e.Error.Message == "" || e.Error.RequestID == "" {
			problems = append(problems, "error body lacks code, message or request_id")
		}
		texts := []string{e.Error.Message}
		for _, d := range e.Error.Details {
			texts = append(texts, d.Message)
		}
		if slices.ContainsFunc(texts, leaksInternals) {
			problems = append(problems, "Go internals in the message")
		}
	}
	if !c.op.admits(who) {
		want := 403
		if who.token == "" {
			want = 401
		}
		if res.status != want {
			problems = append(problems, fmt.Sprintf("want %d (the caller does not pass the operation's security)", want))
		}
		return problems, code
	}
	switch {
	case w.status == 0:
	case res.status != w.status:
		problems = append(problems, fmt.Sprintf("want %d %s", w.status, strings.Join(w.codes, "/")))
	case len(w.codes) > 0 && !slices.Contains(w.codes, code):
		problems = append(problems, fmt.Sprintf("want code %s", strings.Join(w.codes, "/")))
	case w.field != "" && code == codeValidation && !e.names(w.field):
		problems = append(problems, fmt.Sprintf("no detail names %q", w.field))
	}
	return problems, code
}

// errorShape is the Error schema, as far as judge reads it.
type errorShape struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
		Details   []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// names reports whether a detail names field or a part of it (field.member, field[0]).
func (e errorShape) names(field string) bool {
	for _, d := range e.Error.Details {
		if d.Field == field || strings.HasPrefix(d.Field, field+".") || strings.HasPrefix(d.Field, field+"[") {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// negReport collects the failures and prints them one by one (capped) and grouped.
type negReport struct {
	mu       sync.Mutex
	failures []negFailure
	sent     map[string]int            // per operation × kind
	answers  map[string]map[string]int // per kind, to callers the security admits: status and code → count
}

type negFailure struct {
	group, target, variant, caller, outcome, body string
}

func newNegReport() *negReport {
	return &negReport{sent: map[string]int{}, answers: map[string]map[string]int{}}
}

func (rep *negReport) add(c negCase, who negCaller, res negResult, problems []string, code string) {
	group := c.op.id + " × " + c.kind
	rep.mu.Lock()
	defer rep.mu.Unlock()
	rep.sent[group]++
	if c.op.admits(who) {
		if rep.answers[c.kind] == nil {
			rep.answers[c.kind] = map[string]int{}
		}
		rep.answers[c.kind][strings.TrimSpace(fmt.Sprintf("%d %s", res.status, code))]++
	}
	if len(problems) == 0 {
		return
	}
	body := string(res.body)
	if res.err != nil {
		body = res.err.Error()
	}
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	rep.failures = append(rep.failures, negFailure{group: group, target: c.target, variant: c.variant, caller: who.name,
		outcome: strings.TrimSpace(fmt.Sprintf("%d %s", res.status, code)) + ": " + strings.Join(problems, "; "), body: body})
}

const maxReportedFailures = 40

func (rep *negReport) print(t *testing.T) {
	var a strings.Builder
	a.WriteString("answers by mutation kind, to callers the operation's security admits:\n")
	for _, kind := range sortedKeys(rep.answers) {
		var parts []string
		for _, k := range sortedKeys(rep.answers[kind]) {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, rep.answers[kind][k]))
		}
		fmt.Fprintf(&a, "    %-34s %s\n", kind, strings.Join(parts, ", "))
	}
	t.Log(a.String())
	sort.Slice(rep.failures, func(i, j int) bool {
		a, b := rep.failures[i], rep.failures[j]
		return a.group+a.target+a.variant+a.caller < b.group+b.target+b.variant+b.caller
	})
	for i, f := range rep.failures {
		if i == maxReportedFailures {
			t.Errorf("… and %d more failures (see the summary)", len(rep.failures)-i)
			break
		}
		t.Errorf("%s [%s %s] as %s: %s\n    body: %s", f.group, f.target, f.variant, f.caller, f.outcome, f.body)
	}
	if len(rep.failures) == 0 {
		return
	}
	type outcome struct {
		callers, targets map[string]bool
		count            int
		body             string
	}
	groups := map[string]map[string]*outcome{}
	failing := map[string]int{}
	for _, f := range rep.failures {
		if groups[f.group] == nil {
			groups[f.group] = map[string]*outcome{}
		}
		o := groups[f.group][f.outcome]
		if o == nil {
			o = &outcome{callers: map[string]bool{}, targets: map[string]bool{}, body: f.body}
			groups[f.group][f.outcome] = o
		}
		o.count++
		o.callers[f.caller] = true
		o.targets[strings.TrimSpace(f.target+" "+f.variant)] = true
		failing[f.group]++
	}
	byKind := map[string]map[string]int{} // kind → operation → failures
	for _, f := range rep.failures {
		op, kind, _ := strings.Cut(f.group, " × ")
		if byKind[kind] == nil {
			byKind[kind] = map[string]int{}
		}
		byKind[kind][op]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "failures by mutation kind:\n")
	for _, kind := range sortedKeys(byKind) {
		n := 0
		for _, c := range byKind[kind] {
			n += c
		}
		fmt.Fprintf(&b, "    %-34s %4d in %2d operations: %s\n", kind, n, len(byKind[kind]), strings.Join(sortedKeys(byKind[kind]), " "))
	}
	fmt.Fprintf(&b, "summary of %d failures in %d operation × mutation groups:\n", len(rep.failures), len(groups))
	for _, g := range sortedKeys(groups) {
		fmt.Fprintf(&b, "%s: %d of %d requests fail\n", g, failing[g], rep.sent[g])
		for _, name := range sortedKeys(groups[g]) {
			o := groups[g][name]
			targets := sortedKeys(o.targets)
			if len(targets) > 6 {
				targets = append(targets[:6], fmt.Sprintf("… %d more", len(o.targets)-6))
			}
			fmt.Fprintf(&b, "    %d× %s — as %s — %s\n        e.g. %s\n", o.count, name, strings.Join(sortedKeys(o.callers), ", "),
				strings.Join(targets, "; "), o.body)
		}
	}
	t.Log(b.String())
}
