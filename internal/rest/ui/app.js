"use strict";
// Tide's web UI. Polls the REST API every second, renders tables and the
// job graph as text (values are inserted with textContent, never as HTML),
// and keeps the last minutes of the four panels of the seed's dashboard in
// the browser, drawn with uPlot (ui/vendor). Nothing here is made up: every
// number is one the API returned.
(function () {
  var POLL_MS = 1000;
  var WINDOW_S = 10 * 60; // seconds of history the charts keep
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

  var selected = null; // the job shown in detail; the first job by default
  var rescales = []; // the selected job's rescales, for the charts' markers

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function $(id) { return document.getElementById(id); }

  // render replaces a table's content: cols is [[header, fn(row) -> value, cls?], ...].
  function render(id, cols, rows, empty, onclick) {
    var t = $(id);
    t.replaceChildren();
    var head = el("tr");
    cols.forEach(function (c) { head.appendChild(el("th", c[0])); });
    t.appendChild(head);
    if (!rows.length) {
      var tr = el("tr"), td = el("td", empty || "none", "muted");
      td.colSpan = cols.length;
      tr.appendChild(td);
      t.appendChild(tr);
      return;
    }
    rows.forEach(function (r) {
      var tr = el("tr");
      cols.forEach(function (c) {
        var v = c[1](r);
        tr.appendChild(el("td", v, c[2] === "state" ? "state-" + v : c[2]));
      });
      if (onclick) {
        tr.className = "clickable";
        tr.onclick = function () { onclick(r); };
      }
      t.appendChild(tr);
    });
  }

  function card(label, value) {
    var c = el("div", null, "card");
    c.appendChild(el("div", label, "label"));
    c.appendChild(el("div", value, "value"));
    return c;
  }

  function time(ms) { return ms > 0 ? new Date(ms).toLocaleTimeString() : "-"; }
  function dur(ms) {
    if (!(ms >= 0)) return "-";
    if (ms < 1000) return ms + " ms";
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + (s % 60) + "s";
  }
  function si(v) {
    if (v === null || v === undefined) return "-";
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return +(v / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return +(v / 1e3).toFixed(1) + "k";
    return +v.toFixed(a < 10 ? 2 : 0) + "";
  }
  function bytes(n) { return n >= 0 ? si(n) + "B" : "-"; }

  // --- Authentication -----------------------------------------------------
  // A cluster with rest.auth.token-file answers every API call 401 without
  // its token. The page then asks for it once, keeps it in sessionStorage
  // (this tab only, gone when it closes) and sends it as a bearer token on
  // every call; it asks again only when a call with the token is refused
  // (a wrong token, or one changed on the server).

  var TOKEN_KEY = "tide.rest.token";
  var auth = { token: "", asking: false };
  try { auth.token = sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { /* storage off: ask every load */ }

  function storeToken(tok) {
    auth.token = tok;
    try {
      if (tok) sessionStorage.setItem(TOKEN_KEY, tok);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage off: the token lives in this page only */ }
  }

  // askToken shows the token form; refused says a token was sent and refused.
  function askToken(refused) {
    $("auth-message").textContent = refused ? "The token was refused (wrong, or changed on the server): enter the current one." : "";
    if (auth.asking) return;
    auth.asking = true;
    $("auth").hidden = false;
    $("auth-token").value = "";
    $("auth-token").focus();
  }

  $("auth").addEventListener("submit", function (ev) {
    ev.preventDefault(); // nothing is posted anywhere: the form only hands the token to the script
    var tok = $("auth-token").value.trim();
    if (!tok) {
      $("auth-message").textContent = "Enter the token.";
      return;
    }
    storeToken(tok);
    auth.asking = false;
    $("auth").hidden = true;
    $("auth-token").value = "";
    $("auth-message").textContent = "";
    restart();
  });

  // AuthError is a call refused for want of the token; poll does not list it.
  function AuthError(path) {
    this.message = path + ": the REST API needs its token";
    this.auth = true;
  }

  function get(path) {
    var sent = auth.token, headers = { "Accept": "application/json" };
    if (sent) headers["Authorization"] = "Bearer " + sent;
    return fetch(path, { headers: headers, cache: "no-store" }).then(function (r) {
      if (r.status === 401) {
        // Only a refusal of the token in use counts: a call sent with a
        // token since replaced says nothing about the new one.
        if (sent === auth.token) {
          if (sent) storeToken("");
          askToken(!!sent);
        }
        throw new AuthError(path);
      }
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(path + ": " + ((body.errors || []).join("; ") || r.status));
        return body;
      });
    });
  }

  // metrics asks a metric query for ids and answers {id: number}; ids not
  // reported (yet) are absent, as the API leaves them out.
  function metrics(path, ids) {
    return get(path + "?get=" + ids.join(",")).then(function (list) {
      var out = {};
      list.forEach(function (m) { out[m.id] = parseFloat(m.value); });
      return out;
    });
  }

  // --- Charts -------------------------------------------------------------

  // Chart keeps one panel's history: sample times (s) and one array per
  // series, aligned, nulls where a series had no value. A new or vanished
  // series rebuilds the uPlot instance; otherwise a sample only sets data.
  function Chart(id, title, unit, opts) {
    this.id = id;
    this.title = title;
    this.unit = unit;
    this.opts = opts || {};
    this.t = [];
    this.names = [];
    this.data = {};
    this.plot = null;
    this.hover = false; // the cursor is over the plot
    this.markers = 0; // rescale markers drawn on the last redraw
  }

  Chart.prototype.push = function (now, values) {
    var self = this, changed = false;
    Object.keys(values).forEach(function (name) {
      if (!(name in self.data)) {
        self.data[name] = self.t.map(function () { return null; });
        self.names.push(name);
        changed = true;
      }
    });
    if (changed) this.names.sort(); // series keep their order and colour whatever answers first
    this.t.push(now);
    this.names.forEach(function (name) {
      var v = values[name];
      self.data[name].push(v === undefined || isNaN(v) ? null : v);
    });
    var drop = 0;
    while (drop < this.t.length && this.t[drop] < now - WINDOW_S) drop++;
    if (drop) {
      this.t.splice(0, drop);
      this.names.forEach(function (name) { self.data[name].splice(0, drop); });
    }
    // Series with no value left in the window go.
    var kept = this.names.filter(function (name) { return self.data[name].some(function (v) { return v !== null; }); });
    if (kept.length !== this.names.length) {
      this.names.forEach(function (name) { if (kept.indexOf(name) < 0) delete self.data[name]; });
      this.names = kept;
      changed = true;
    }
    this.draw(changed);
  };

  Chart.prototype.aligned = function () {
    var self = this;
    return [this.t].concat(this.names.map(function (name) { return self.data[name]; }));
  };

  // count is the number of values the chart holds (not nulls), what the
  // browser test reads.
  Chart.prototype.count = function () {
    var self = this, n = 0;
    this.names.forEach(function (name) { self.data[name].forEach(function (v) { if (v !== null) n++; }); });
    return n;
  };

  Chart.prototype.width = function () { return Math.max(300, $(this.id).clientWidth - 8); };

  Chart.prototype.draw = function (rebuild) {
    if (this.plot && !rebuild) {
      this.plot.setData(this.aligned());
      this.showLatest();
      return;
    }
    if (this.plot) this.plot.destroy();
    var self = this, unit = this.unit;
    var series = [{}].concat(this.names.map(function (name, i) {
      var s = { label: name, stroke: COLORS[i % COLORS.length], width: 2, value: function (u, v) { return v === null ? "-" : si(v) + unit; } };
      if (self.opts.stepped) s.paths = uPlot.paths.stepped({ align: 1 });
      return s;
    }));
    this.plot = new uPlot({
      title: this.title,
      width: this.width(),
      height: 220,
      scales: { x: { time: true }, y: { range: function (u, lo, hi) { return [Math.min(0, lo), Math.max(hi, self.opts.minMax || 1)]; } } },
      series: series,
      axes: [{ space: 80, values: function (u, vals) { return vals.map(function (v) { return new Date(v * 1000).toLocaleTimeString(); }); } }, { size: 60, values: function (u, vals) { return vals.map(function (v) { return si(v) + unit; }); } }],
      hooks: { draw: [function (u) { self.drawRescales(u); }] }
    }, this.aligned(), $(this.id));
    // The legend shows the values under the cursor, and the latest ones
    // when the cursor is elsewhere.
    this.hover = false;
    this.plot.over.addEventListener("mouseenter", function () { self.hover = true; });
    this.plot.over.addEventListener("mouseleave", function () { self.hover = false; self.showLatest(); });
    this.showLatest();
  };

  Chart.prototype.showLatest = function () {
    if (!this.hover && this.t.length) this.plot.setLegend({ idx: this.t.length - 1 });
  };

  // drawRescales marks each rescale's start with a dashed vertical line and
  // its from→to, on uPlot's canvas after each redraw.
  Chart.prototype.drawRescales = function (u) {
    var ctx = u.ctx, left = u.bbox.left, right = left + u.bbox.width, n = 0;
    ctx.save();
    ctx.strokeStyle = "#b3261e";
    ctx.fillStyle = "#b3261e";
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.setLineDash([6, 4]);
    ctx.font = Math.round(11 * devicePixelRatio) + "px system-ui, sans-serif";
    rescales.forEach(function (r) {
      if (!(r.start > 0)) return;
      var x = Math.round(u.valToPos(r.start / 1000, "x", true));
      if (x < left || x > right) return;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillText(r.from + "→" + r.to, x + 3, u.bbox.top + 12 * devicePixelRatio);
      n++;
    });
    ctx.restore();
    this.markers = n;
  };

  var charts = {
    lag: new Chart("chart-lag", "Kafka consumer lag (pendingRecords of the sources)", ""),
    tput: new Chart("chart-tput", "Throughput (records/s by vertex)", "/s"),
    cpu: new Chart("chart-cpu", "CPU per TaskManager (share of its limit)", "%", { minMax: 100 }),
    tms: new Chart("chart-tms", "TaskManagers", "", { stepped: true })
  };
  window.tide = { charts: charts }; // for the browser test and the console

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) {
      var c = charts[k];
      if (c.plot) c.plot.setSize({ width: c.width(), height: 220 });
    });
  });

  // --- Sections -----------------------------------------------------------

  function renderOverview(o, job) {
    $("version").textContent = "version " + o["tide-version"] + " (Flink REST " + o["flink-version"] + ")";
    var cards = [
      card("TaskManagers", o.taskmanagers),
      card("slots total", o["slots-total"]),
      card("slots available", o["slots-available"]),
      card("jobs running", o["jobs-running"])
    ];
    if (job) {
      var st = card("job state", job.state);
      st.lastChild.className = "value state-" + job.state;
      cards.push(st, card("job uptime", dur(job.duration)));
    }
    $("overview").replaceChildren.apply($("overview"), cards);
  }

  // levels orders the plan's nodes into columns: sources first, every
  // other node one column right of its furthest input.
  function levels(nodes) {
    var byId = {}, level = {};
    nodes.forEach(function (n) { byId[n.id] = n; });
    function lv(id, depth) {
      if (id in level) return level[id];
      var n = byId[id], l = 0;
      if (n && depth < nodes.length) (n.inputs || []).forEach(function (i) { l = Math.max(l, lv(i.id, depth + 1) + 1); });
      level[id] = l;
      return l;
    }
    var cols = [];
    nodes.forEach(function (n) {
      var l = lv(n.id, 0);
      (cols[l] = cols[l] || []).push(n);
    });
    return cols.filter(Boolean);
  }

  function renderGraph(d) {
    var g = $("graph"), vs = {}, names = {};
    (d.vertices || []).forEach(function (v) { vs[v.id] = v; names[v.id] = v.name; });
    var parts = [];
    levels((d.plan && d.plan.nodes) || []).forEach(function (col, i) {
      if (i) parts.push(el("div", "→", "arrow"));
      var c = el("div", null, "level");
      col.forEach(function (n) {
        var v = vs[n.id] || {}, m = v.metrics || {};
        var busy = m.busyTimeMsPerSecond, bp = m.backPressuredTimeMsPerSecond;
        var box = el("div", null, "vertex" + (bp > 300 ? " backpressured" : busy > 700 ? " busy" : ""));
        box.dataset.vertex = n.id;
        box.appendChild(el("div", v.name || n.description, "name"));
        function row(k, val) {
          var r = el("div", null, "row");
          r.appendChild(el("span", k, "muted"));
          r.appendChild(el("span", val));
          box.appendChild(r);
        }
        row("parallelism", v.parallelism + " / max " + v.maxParallelism);
        row("status", v.status);
        row("busy", busy >= 0 ? busy + " ms/s" : "-");
        row("back-pressured", bp >= 0 ? bp + " ms/s" : "-");
        row("records in / out", (m.numRecordsInPerSecond >= 0 ? si(m.numRecordsInPerSecond) : "-") + " / " +
          (m.numRecordsOutPerSecond >= 0 ? si(m.numRecordsOutPerSecond) : "-") + " per s");
        (n.inputs || []).forEach(function (inp) { row("from " + (names[inp.id] || inp.id), inp.ship_strategy); });
        c.appendChild(box);
      });
      parts.push(c);
    });
    g.replaceChildren.apply(g, parts);
  }

  function renderCheckpoints(c) {
    var n = c.counts || {};
    render("checkpoints", [
      ["completed", function () { return n.completed; }, "num"],
      ["failed", function () { return n.failed; }, "num"],
      ["in progress", function () { return n.in_progress; }, "num"],
      ["restored", function () { return n.restored; }, "num"],
      ["total", function () { return n.total; }, "num"]
    ], [c]);
    var l = c.latest || {}, rows = [];
    [["completed", l.completed], ["savepoint", l.savepoint], ["failed", l.failed]].forEach(function (e) { if (e[1]) rows.push({ kind: e[0], c: e[1] }); });
    render("checkpoint-latest", [
      ["latest", function (r) { return r.kind; }],
      ["id", function (r) { return r.c.id; }, "num"],
      ["triggered", function (r) { return time(r.c.trigger_timestamp); }],
      ["duration", function (r) { return dur(r.c.end_to_end_duration); }, "num"],
      ["size", function (r) { return bytes(r.c.checkpointed_size); }, "num"],
      ["path / cause", function (r) { return r.c.external_path || r.c.failure_message || ""; }]
    ], rows, "no checkpoint yet");
  }

  function renderExceptions(x) {
    var entries = ((x.exceptionHistory || {}).entries || []).slice(0, 10);
    render("exceptions", [
      ["time", function (r) { return time(r.timestamp); }],
      ["exception", function (r) { return r.exceptionName; }],
      ["task", function (r) { return r.taskName || ""; }],
      ["location", function (r) { return r.location || ""; }],
      ["message", function (r) { return (r.stacktrace || "").split("\n")[0]; }]
    ], entries, "no exceptions");
  }

  function renderRescales(list) {
    render("rescales", [
      ["#", function (r) { return r.id; }, "num"],
      ["trigger", function (r) { return r.trigger; }],
      ["from → to", function (r) { return r.from + " → " + r.to; }, "num"],
      ["checkpoint", function (r) { return r.checkpoint < 0 ? "-" : r.checkpoint; }, "num"],
      ["start", function (r) { return time(r.start); }],
      ["pause", function (r) { return dur(r.pause_ms); }, "num"],
      ["reprocessed", function (r) { return r.reprocessed_records; }, "num"],
      ["status", function (r) { return r.status; }, "state"],
      ["message", function (r) { return r.message || ""; }]
    ], list.slice().reverse(), "no rescales yet");
  }

  function renderTaskManagers(tms, cpu) {
    render("taskmanagers", [
      ["id", function (r) { return r.id; }],
      ["address", function (r) { return r.path; }],
      ["slots", function (r) { return r.slotsNumber; }, "num"],
      ["free", function (r) { return r.freeSlots; }, "num"],
      ["cores", function (r) { return r.hardware ? r.hardware.cpuCores : "-"; }, "num"],
      ["CPU", function (r) { return r.id in cpu ? cpu[r.id].toFixed(1) + " %" : "-"; }, "num"],
      ["last heartbeat", function (r) { return dur(r.heartbeatAge) + " ago"; }, "num"],
      ["leaving", function (r) { return r.leaving ? "yes" : ""; }]
    ], tms, "no TaskManagers registered");
  }

  // --- Polling ------------------------------------------------------------

  var VERTEX_METRICS = ["pendingRecords", "numRecordsInPerSecond", "numRecordsOutPerSecond"];

  // pollJob fetches the selected job's detail and what hangs off it, and
  // answers the charts' job samples: {lag: {...}, tput: {...}}.
  function pollJob(fail) {
    var sample = { lag: {}, tput: {}, job: null };
    if (!selected) {
      $("job-title").textContent = "";
      $("graph").replaceChildren(el("span", "no job", "muted"));
      rescales = [];
      ["rescales", "checkpoints", "checkpoint-latest", "exceptions"].forEach(function (id) { render(id, [["", function () { return ""; }]], [], "no job"); });
      return Promise.resolve(sample);
    }
    var job = "/jobs/" + selected;
    return Promise.all([
      get(job).then(function (d) {
        sample.job = d;
        $("job-title").textContent = d.name + " (" + d.jid + ")";
        renderGraph(d);
        var inputs = {};
        ((d.plan && d.plan.nodes) || []).forEach(function (n) { inputs[n.id] = (n.inputs || []).length; });
        var lag = null;
        return Promise.all((d.vertices || []).map(function (v) {
          return metrics(job + "/vertices/" + v.id + "/metrics", VERTEX_METRICS).then(function (m) {
            var source = !inputs[v.id];
            // A source's throughput is what it emits; any other vertex's is what it reads.
            var rate = source ? m.numRecordsOutPerSecond : m.numRecordsInPerSecond;
            if (rate !== undefined) sample.tput[v.name] = rate;
            if (source && m.pendingRecords !== undefined) lag = (lag || 0) + m.pendingRecords;
          }).catch(fail);
        })).then(function () { if (lag !== null) sample.lag["pending records"] = lag; });
      }).catch(fail),
      get(job + "/rescales").then(function (o) {
        rescales = o.rescales || [];
        renderRescales(rescales);
      }).catch(fail),
      get(job + "/checkpoints").then(renderCheckpoints).catch(fail),
      get(job + "/exceptions").then(renderExceptions).catch(fail)
    ]).then(function () { return sample; });
  }

  function pollTaskManagers(fail) {
    return get("/taskmanagers").then(function (o) {
      var tms = o.taskmanagers || [], cpu = {};
      return Promise.all(tms.map(function (tm) {
        return metrics("/taskmanagers/" + encodeURIComponent(tm.id) + "/metrics", ["Status.JVM.CPU.Load"]).then(function (m) {
          if ("Status.JVM.CPU.Load" in m) cpu[tm.id] = m["Status.JVM.CPU.Load"] * 100;
        }).catch(fail);
      })).then(function () {
        renderTaskManagers(tms, cpu);
        return cpu;
      });
    }).catch(function (e) { fail(e); return {}; });
  }

  function poll() {
    var errors = [], now = Date.now() / 1000;
    function fail(e) { if (!e.auth) errors.push(e.message); }
    var overview = get("/overview").catch(function (e) { fail(e); return null; });
    var jobs = get("/jobs/overview").then(function (o) {
      var list = o.jobs || [];
      if (!list.some(function (j) { return j.jid === selected; })) selected = list.length ? list[0].jid : null;
      render("jobs", [
        ["id", function (r) { return r.jid; }],
        ["name", function (r) { return r.name; }],
        ["state", function (r) { return r.state; }, "state"],
        ["started", function (r) { return time(r["start-time"]); }],
        ["duration", function (r) { return dur(r.duration); }, "num"]
      ], list, "no jobs", function (j) { selected = j.jid; });
    }).catch(fail).then(function () { return pollJob(fail); });
    return Promise.all([overview, jobs, pollTaskManagers(fail)]).then(function (r) {
      var o = r[0], s = r[1], cpu = r[2];
      if (o) renderOverview(o, s.job);
      charts.lag.push(now, s.lag);
      charts.tput.push(now, s.tput);
      charts.cpu.push(now, cpu);
      charts.tms.push(now, o ? { TaskManagers: o.taskmanagers } : {});
      $("error").textContent = errors.join(" | ");
      if (!auth.asking) $("updated").textContent = "updated " + new Date(now * 1000).toLocaleTimeString();
    });
  }

  $("window").textContent = dur(WINDOW_S * 1000);
  // One poll at a time, one every POLL_MS; none while the token form waits
  // (restart polls again once it is filled in).
  var polling = false, timer = null;
  function loop() {
    timer = null;
    polling = true;
    poll().finally(function () {
      polling = false;
      if (!auth.asking) timer = setTimeout(loop, POLL_MS);
    });
  }
  function restart() {
    if (polling) return; // the poll in progress schedules the next one
    if (timer !== null) clearTimeout(timer);
    loop();
  }
  loop();
})();
