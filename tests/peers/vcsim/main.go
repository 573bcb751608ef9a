// Command vcsim-taskstatus runs govmomi's vCenter simulator (vcsim, from
// Debian's golang-github-vmware-govmomi-dev 0.24) as an independent peer for
// the taskstatus.infra vSphere adapter.
//
// Sessions are govmomi's own: POST /rest/com/vmware/cis/session, 401 for a
// missing, deleted or idle-expired session (simulator.SessionIdleTimeout),
// DELETE to log out. govmomi 0.24 has no /api and no cis tasks, so this file
// adds, behind govmomi's own session check (vapi Service.HandleFunc):
//   - GET /rest/cis/tasks/{task} and GET /rest/cis/tasks?filter_spec.tasks=...
//     for the ids given with -tasks (RUNNING for -task-seconds after the
//     first read, then SUCCEEDED);
//   - a password check on session creation (vcsim 0.24 takes any non-empty
//     user and password);
//   - GET /_peer/stats: sessions created, deleted, still valid, failed logins.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator" // registers the vAPI /rest endpoints
)

const service = "com.vmware.esx.settings.clusters.software"

type peer struct {
	sync.Mutex
	user, pass string
	taskSeconds time.Duration
	tasks       map[string]time.Time // id -> first read (zero: not read yet)
	created     []string
	deleted     int
	failed      int
	vapi        http.Handler
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func vapiError(kind, text string) map[string]interface{} {
	return map[string]interface{}{"type": "com.vmware.vapi.std.errors." + kind, "value": map[string]interface{}{
		"messages": []map[string]interface{}{{"id": "vapi.std.errors." + kind, "default_message": text, "args": []string{}}}}}
}

func (p *peer) info(id string, now time.Time) map[string]interface{} {
	first := p.tasks[id]
	if first.IsZero() {
		first = now
		p.tasks[id] = now
	}
	done := now.Sub(first) >= p.taskSeconds
	percent := int(100 * now.Sub(first) / p.taskSeconds)
	info := map[string]interface{}{
		"description": map[string]interface{}{"id": service + ".apply", "default_message": "Remediating cluster domain-c8", "args": []string{}},
		"service":     service, "operation": "apply", "cancelable": !done, "status": "RUNNING",
		"target":     map[string]string{"type": "ClusterComputeResource", "id": "domain-c8"},
		"start_time": first.UTC().Format(time.RFC3339),
		"progress": map[string]interface{}{"total": 100, "completed": percent,
			"message": map[string]interface{}{"id": "peer.progress", "default_message": fmt.Sprintf("Remediating (%d%%)", percent), "args": []string{}}},
	}
	if done {
		info["status"] = "SUCCEEDED"
		info["end_time"] = first.Add(p.taskSeconds).UTC().Format(time.RFC3339)
		info["progress"].(map[string]interface{})["completed"] = 100
	}
	return info
}

func (p *peer) get(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/rest/cis/tasks/")
	p.Lock()
	defer p.Unlock()
	if _, ok := p.tasks[id]; !ok || r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, vapiError("not_found", "Task "+id+" not found."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{"value": p.info(id, time.Now())})
}

func (p *peer) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, services := q["filter_spec.tasks"], q["filter_spec.services"]
	if len(ids) == 0 && len(services) == 0 {
		writeJSON(w, http.StatusBadRequest, vapiError("invalid_argument", "Either tasks or services must be specified."))
		return
	}
	p.Lock()
	defer p.Unlock()
	out := []map[string]interface{}{}
	now := time.Now()
	for id := range p.tasks {
		match := len(ids) == 0
		for _, want := range ids {
			match = match || want == id
		}
		if match {
			out = append(out, map[string]interface{}{"key": id, "value": p.info(id, now)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{"value": out})
}

// session checks the password on creation, then lets govmomi answer.
func (p *peer) session(w http.ResponseWriter, r *http.Request) {
	create := r.Method == http.MethodPost && r.URL.Query().Get("~action") == ""
	if create {
		u, pw, ok := r.BasicAuth()
		if !ok || u != p.user || pw != p.pass {
			p.Lock()
			p.failed++
			p.Unlock()
			writeJSON(w, http.StatusUnauthorized, vapiError("unauthenticated", "Authentication required."))
			return
		}
	}
	rec := httptest.NewRecorder()
	p.vapi.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	p.Lock()
	defer p.Unlock()
	var body struct {
		Value string `json:"value"`
	}
	if create && rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
		p.created = append(p.created, body.Value)
	}
	if r.Method == http.MethodDelete && rec.Code == http.StatusOK {
		p.deleted++
	}
}

// valid asks govmomi whether a session id still works.
func (p *peer) valid(id string) bool {
	req := httptest.NewRequest(http.MethodPost, "/rest/com/vmware/cis/session?~action=get", nil)
	req.Header.Set("vmware-api-session-id", id)
	rec := httptest.NewRecorder()
	p.vapi.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

func (p *peer) stats(w http.ResponseWriter, r *http.Request) {
	p.Lock()
	created := append([]string(nil), p.created...)
	deleted, failed := p.deleted, p.failed
	p.Unlock()
	open := 0
	for _, id := range created {
		if p.valid(id) {
			open++
		}
	}
	writeJSON(w, http.StatusOK, map[string]int{"sessions_created": len(created), "sessions_deleted": deleted,
		"sessions_open": open, "logins_failed": failed})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	user := flag.String("username", "administrator@vsphere.local", "user name")
	pass := flag.String("password", "VMware1!", "password")
	idle := flag.Duration("idle", 0, "session idle timeout, e.g. 1s (0: sessions never expire)")
	taskSeconds := flag.Duration("task-seconds", 3*time.Second, "how long a task runs after its first read")
	tasks := flag.String("tasks", "", "comma-separated cis task ids to serve")
	urlFile := flag.String("url-file", "", "write the base URL to this file once serving")
	flag.Parse()

	simulator.SessionIdleTimeout = *idle
	p := &peer{user: *user, pass: *pass, taskSeconds: *taskSeconds, tasks: map[string]time.Time{}}
	for _, id := range strings.Split(*tasks, ",") {
		if id = strings.TrimSpace(id); id != "" {
			p.tasks[id] = time.Time{}
		}
	}

	m := simulator.VPX()
	defer m.Remove()
	if err := m.Create(); err != nil {
		log.Fatal(err)
	}
	m.Service.RegisterEndpoints = true
	m.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *pass)}
	// Dispatched to the vAPI handler's HandleFunc: govmomi checks the session first.
	m.Service.HandleFunc("/rest/cis/tasks", p.list)
	m.Service.HandleFunc("/rest/cis/tasks/", p.get)
	s := m.Service.NewServer()
	defer s.Close()
	p.vapi, _ = m.Service.ServeMux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/rest/"}})
	m.Service.ServeMux.HandleFunc("/rest/com/vmware/cis/session", p.session)
	m.Service.ServeMux.HandleFunc("/_peer/stats", p.stats)

	base := fmt.Sprintf("%s://%s", s.URL.Scheme, s.URL.Host)
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile+".tmp", []byte(base+"\n"), 0o600); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(*urlFile+".tmp", *urlFile); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(base)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
