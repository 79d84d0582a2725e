/* 素材篮 (collection) and page helpers. Vanilla JS, no dependencies.
   The collection lives in localStorage under KEY (items) and CATS (the user's categories), so it
   survives browser restarts; it can be saved to and read back from a .json file.
   Citations come from the server (data-cite, built by corpus.citation); document text is only ever
   put into the page with textContent, never innerHTML. */
(function () {
  'use strict';
  var KEY = 'corpus.collection.v1';
  var CATS = 'corpus.categories.v1';
  var FILE_FORMAT = 'corpus-collection';
  var COLORS = ['#a4161a', '#1d4f91', '#2f7d32', '#b26a00', '#6a3d9a', '#00838f', '#7a5b00', '#c2185b'];
  var UNKNOWN = '出处不详', PREFIX = '——';
  document.documentElement.classList.add('js');

  function loadKey(key) {
    try {
      var v = JSON.parse(localStorage.getItem(key) || '[]');
      return Array.isArray(v) ? v : [];
    } catch (e) { return []; }
  }
  function load() { return loadKey(KEY); }
  function loadCats() { return loadKey(CATS); }
  function save(items) {
    localStorage.setItem(KEY, JSON.stringify(items));
    updateCount(items);
  }
  function saveCats(cats) { localStorage.setItem(CATS, JSON.stringify(cats)); }
  function updateCount(items) {
    var n = (items || load()).length;
    document.querySelectorAll('[data-basket-count]').forEach(function (el) { el.textContent = String(n); });
  }
  var toastTimer = null;
  function toast(msg) {
    var el = document.querySelector('.toast');
    if (!el) return;
    el.textContent = msg;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 1800);
  }
  function hash(s) {
    var h = 0;
    for (var i = 0; i < s.length; i++) { h = (h * 31 + s.charCodeAt(i)) | 0; }
    return (h >>> 0).toString(36);
  }

  /* citations: the server's (corpus.citation) when the item has one; items saved before citations
     existed get theirs from /api/paragraphs/<id> when the collection page opens */
  function citeOf(it) {
    if (it.cite) return it.cite;
    var parts = [];
    if (it.title) parts.push('《' + it.title + '》');
    if (it.unit) parts.push(it.unit);
    if (it.date) parts.push(it.date);
    var src = [it.site, it.url].filter(Boolean).join(' ');
    parts.push(src ? '来源：' + src : UNKNOWN);
    return parts.length > 1 ? parts.join('，') : UNKNOWN;
  }
  function withCite(text, cite) { return String(text || '').trim() + '\n' + PREFIX + (cite || UNKNOWN); }

  function makeItem(kind, text, el) {
    var src = el.closest('[data-item]') || document.createElement('div');
    var para = el.closest('[data-pid]');
    var pid = (para && para.dataset.pid) || src.dataset.pid || '';
    var d = src.dataset;
    return {
      id: kind + ':' + pid + ':' + hash(text),
      kind: kind, text: text.trim(),
      paragraph_id: pid ? Number(pid) : null, doc_id: d.doc ? Number(d.doc) : null,
      title: d.title || '', unit: d.unit || '', date: d.date || '', site: d.site || '', url: d.url || '',
      cite: d.cite || '', note: '', category: '',
      added: new Date().toISOString()
    };
  }
  function add(item) {
    if (!item.text) return false;
    var items = load();
    if (items.some(function (it) { return it.id === item.id; })) { toast('已在素材篮中'); return false; }
    items.push(item);
    save(items);
    toast('已加入素材篮（共 ' + items.length + ' 条）');
    return true;
  }

  var KIND_LABEL = { paragraph: '段落', sentence: '句子', excerpt: '摘录' };
  function catName(cats, id) {
    var c = cats.filter(function (c) { return c.id === id; })[0];
    return c ? c.name : '';
  }
  function asText(items, cats) {
    cats = cats || loadCats();
    return items.map(function (it, i) {
      var head = (i + 1) + '. ' + it.text;
      var cat = catName(cats, it.category);
      var extra = [cat ? '〔' + cat + '〕' : '', it.note ? '批注：' + it.note : ''].filter(Boolean).join(' ');
      return withCite(head, citeOf(it)) + (extra ? '\n' + extra : '');
    }).join('\n\n') + '\n';
  }
  /* a cell a spreadsheet would run as a formula gets one leading apostrophe (as corpus export does) */
  function csvCell(v) {
    v = v == null ? '' : String(v);
    if (/^[=+\-@\t\r']/.test(v)) v = "'" + v;
    return /[",\n\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  var FIELDS = ['text', 'kind', 'category', 'note', 'cite', 'title', 'unit', 'date', 'site', 'url', 'doc_id', 'paragraph_id', 'added'];
  var CSV_HEADERS = ['文字', '类型', '分类', '批注', '出处', '标题', '单位', '日期', '来源网站', '网址', '文稿编号', '段落编号', '收藏时间'];
  function row(it, cats) {
    var o = {};
    FIELDS.forEach(function (f) { o[f] = it[f] == null ? '' : it[f]; });
    o.kind = KIND_LABEL[it.kind] || it.kind || '';
    o.category = catName(cats, it.category);
    o.cite = citeOf(it);
    return o;
  }
  function download(blob, name) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  }
  function stamp() { return new Date().toISOString().slice(0, 10); }
  function exportAs(items, fmt, cats) {
    var body, type;
    cats = cats || loadCats();
    if (fmt === 'csv') {
      body = '\ufeff' + [CSV_HEADERS.join(',')].concat(items.map(function (it) {
        var o = row(it, cats);
        return FIELDS.map(function (f) { return csvCell(o[f]); }).join(',');
      })).join('\r\n') + '\r\n';
      type = 'text/csv';
    } else if (fmt === 'jsonl') {
      body = items.map(function (it) { return JSON.stringify(row(it, cats)); }).join('\n') + '\n';
      type = 'application/jsonl';
    } else { body = asText(items, cats); type = 'text/plain'; fmt = 'txt'; }
    download(new Blob([body], { type: type + ';charset=utf-8' }), '素材篮-' + stamp() + '.' + fmt);
  }
  function exportDocx(items, cats) {
    return fetch('/collection/docx', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ items: items.map(function (it) { return Object.assign({}, it, { cite: citeOf(it) }); }), categories: cats })
    }).then(function (r) {
      if (!r.ok) return r.text().then(function () { throw new Error('HTTP ' + r.status); });
      return r.blob();
    }).then(function (blob) { download(blob, '素材篮-' + stamp() + '.docx'); })
      .catch(function (e) { toast('导出 Word 失败：' + e.message); });
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return Promise.resolve(fallbackCopy(text));
  }
  function fallbackCopy(text) {
    var ta = document.createElement('textarea');
    ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
    document.body.appendChild(ta); ta.select();
    try { document.execCommand('copy'); } finally { ta.remove(); }
  }

  /* buttons on result cards, KWIC rows and document paragraphs */
  function markCollected() {
    var ids = {};
    load().forEach(function (it) { ids[it.id] = true; });
    document.querySelectorAll('button[data-collect]').forEach(function (b) {
      var it = makeItem(b.dataset.collect, b.dataset.text || '', b);
      var done = !!ids[it.id];
      b.classList.toggle('done', done);
      if (!b.dataset.label) b.dataset.label = b.textContent;
      b.textContent = done ? '✓ 已收藏' + (b.dataset.collect === 'sentence' ? '本句' : b.dataset.collect === 'paragraph' ? '段落' : '') : b.dataset.label;
    });
  }
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-collect]');
    if (b) { if (add(makeItem(b.dataset.collect, b.dataset.text || '', b))) markCollected(); return; }
    b = ev.target.closest('button[data-copy]');
    if (b) {
      var src = b.closest('[data-item]');
      var text = withCite(b.dataset.text || '', src && src.dataset.cite);
      copyText(text).then(function () { toast('已复制（含出处）'); });
      return;
    }
    b = ev.target.closest('button[data-copy-cite]');
    if (b) {
      var item = b.closest('[data-item]');
      copyText((item && item.dataset.cite) || UNKNOWN).then(function () { toast('已复制出处'); });
    }
  });

  function typing(ev) {
    var t = ev.target;
    return ev.ctrlKey || ev.metaKey || ev.altKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)));
  }

  /* results page: remember where the reader was, so 返回检索结果 lands there again; facets fold on phones */
  var SCROLL = 'corpus.scroll:';
  function initResults() {
    var results = document.querySelector('.results');
    if (!results) return;
    // a result link carries its search as back=<query string>#hit-N; the scroll position is kept
    // under that query string, which is exactly the search part of the 返回检索结果 link
    results.addEventListener('click', function (ev) {
      var a = ev.target.closest('a[href]');
      if (!a) return;
      var back = new URL(a.href, location.href).searchParams.get('back');
      if (!back) return;
      try { sessionStorage.setItem(SCROLL + back.split('#')[0], String(Math.round(window.scrollY))); } catch (e) { /* private mode */ }
    });
    var m = /^#((?:hit|rel)-\d+)$/.exec(location.hash);  // a literal hit, or one of the related list
    if (!m) return;
    var saved = null;
    try { saved = sessionStorage.getItem(SCROLL + location.search.slice(1)); } catch (e) { /* private mode */ }
    var el = document.getElementById(m[1]);
    function restore() {
      if (saved !== null) window.scrollTo(0, Number(saved));
      else if (el) el.scrollIntoView({ block: 'center' });
    }
    restore();
    // the browser's own jump to the #hit-N fragment may come later: restore once more after it
    window.addEventListener('load', function () { restore(); setTimeout(restore, 0); });
    if (el) el.classList.add('came-from');
  }
  function initFacets() {
    document.querySelectorAll('[data-facets-toggle]').forEach(function (b) {
      var panel = document.getElementById(b.getAttribute('aria-controls'));
      if (!panel) return;
      b.hidden = false;
      b.addEventListener('click', function () {
        var open = b.getAttribute('aria-expanded') !== 'true';
        b.setAttribute('aria-expanded', open ? 'true' : 'false');
        panel.classList.toggle('open', open);
      });
    });
  }

  /* document page: scroll to the hit, step through the marked terms (n / p), add a selected
     passage, keep the outline on the section being read */
  function initDocument() {
    var speech = document.querySelector('.speech');
    if (!speech) return;
    var hit = speech.dataset.hit && document.getElementById('p' + speech.dataset.hit);
    if (hit) {
      hit.scrollIntoView({ block: 'center' });
      // the browser's own jump to the #p<id> fragment can come after this script: centre again then
      window.addEventListener('load', function () { hit.scrollIntoView({ block: 'center' }); });
    }
    initHitNav(speech, hit);
    initSelection(speech);
    initOutline();
  }
  function initHitNav(speech, hit) {
    var nav = document.querySelector('[data-hit-nav]');
    var marks = Array.prototype.slice.call(speech.querySelectorAll('.speech-body mark'));
    if (!nav || !marks.length) return;
    nav.hidden = false;
    var pos = nav.querySelector('[data-hit-pos]');
    var cur = -1;
    if (hit) {
      var first = hit.querySelector('mark');
      cur = first ? marks.indexOf(first) : -1;
    }
    function show(i) {
      if (cur >= 0) marks[cur].classList.remove('current');
      cur = (i + marks.length) % marks.length;
      marks[cur].classList.add('current');
      marks[cur].scrollIntoView({ block: 'center' });
      pos.textContent = (cur + 1) + ' / ' + marks.length;
    }
    pos.textContent = (cur >= 0 ? (cur + 1) : '–') + ' / ' + marks.length;
    if (cur >= 0) marks[cur].classList.add('current');
    function step(d) {
      if (cur < 0) {  // not yet on a mark: the next one below (or above) the middle of the screen
        var mid = window.innerHeight / 2, i;
        for (i = 0; i < marks.length && marks[i].getBoundingClientRect().top < mid; i++) { /* find */ }
        show(d > 0 ? i : i - 1);
      } else { show(cur + d); }
    }
    nav.addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-hit-step]');
      if (b) step(Number(b.dataset.hitStep));
    });
    document.addEventListener('keydown', function (ev) {
      if (typing(ev)) return;
      if (ev.key === 'n') { ev.preventDefault(); step(1); } else if (ev.key === 'p') { ev.preventDefault(); step(-1); }
    });
  }
  function initSelection(speech) {
    var btn = document.querySelector('[data-selection-collect]');
    var body = speech.querySelector('.speech-body');
    if (!btn || !body) return;
    var pending = null, timer = null;
    // show the button under a selection in the speech: after a mouse selection, and (phones,
    // where selecting is a long press, not a mouseup) when the selection settles
    function check(hideIfEmpty) {
      var sel = window.getSelection();
      var text = sel ? sel.toString().trim() : '';
      if (!text || text.length < 2 || text.length > 5000 || !sel.rangeCount || !body.contains(sel.anchorNode)) {
        if (hideIfEmpty) btn.hidden = true;
        return;
      }
      var node = sel.anchorNode.nodeType === 1 ? sel.anchorNode : sel.anchorNode.parentElement;
      pending = { text: text, el: node };
      var r = sel.getRangeAt(0).getBoundingClientRect();
      btn.style.top = (window.scrollY + r.bottom + 6) + 'px';
      btn.style.left = Math.max(4, Math.min(window.scrollX + r.left, document.documentElement.clientWidth - 140)) + 'px';
      btn.hidden = false;
    }
    document.addEventListener('mouseup', function (ev) {
      if (ev.target === btn) return;
      setTimeout(function () { check(true); }, 0);
    });
    document.addEventListener('selectionchange', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { check(false); }, 350);
    });
    btn.addEventListener('click', function () {
      if (pending) add(makeItem('excerpt', pending.text, pending.el));
      btn.hidden = true; pending = null;
      window.getSelection().removeAllRanges();
    });
  }
  function initOutline() {
    var links = Array.prototype.slice.call(document.querySelectorAll('.outline a[href^="#p"]'));
    var heads = links.map(function (a) { return document.getElementById(a.getAttribute('href').slice(1)); });
    if (!links.length) return;
    var current = null, queued = false;
    function update() {
      queued = false;
      var line = window.innerHeight * 0.55, at = -1;  // the reader's eye: a little below the middle
      for (var i = 0; i < heads.length; i++) {
        if (heads[i] && heads[i].getBoundingClientRect().top <= line) at = i;
      }
      var a = at >= 0 ? links[at] : null;
      if (a === current) return;
      if (current) { current.classList.remove('current'); current.removeAttribute('aria-current'); }
      current = a;
      if (a) {
        a.classList.add('current'); a.setAttribute('aria-current', 'location');
        var box = a.closest('.outline');
        if (box && box.scrollHeight > box.clientHeight) {
          var r = a.getBoundingClientRect(), b = box.getBoundingClientRect();
          if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - b.height / 3;
        }
      }
    }
    window.addEventListener('scroll', function () { if (!queued) { queued = true; requestAnimationFrame(update); } }, { passive: true });
    window.addEventListener('resize', update);
    update();
    setTimeout(update, 50);  // after the jump to the hit
  }

  /* collection page */
  function itemsShown(items, filter) {
    if (!filter) return items;
    return items.filter(function (it) { return filter === '-' ? !it.category : it.category === filter; });
  }
  var state = { filter: '' };
  function option(value, text, selected) {
    var o = document.createElement('option');
    o.value = value; o.textContent = text; o.selected = !!selected;
    return o;
  }
  function renderCats(page, items, cats) {
    var box = page.querySelector('[data-categories]');
    box.textContent = '';
    cats.forEach(function (c) {
      var n = items.filter(function (it) { return it.category === c.id; }).length;
      var chip = document.createElement('span'); chip.className = 'cat-chip'; chip.dataset.cat = c.id;
      chip.style.setProperty('--cat', c.color);
      var name = document.createElement('span'); name.className = 'cat-name'; name.textContent = c.name;
      var count = document.createElement('span'); count.className = 'cat-count'; count.textContent = String(n);
      var ren = document.createElement('button'); ren.type = 'button'; ren.dataset.catAction = 'rename'; ren.textContent = '改名'; ren.title = '给这个分类改名';
      var col = document.createElement('button'); col.type = 'button'; col.dataset.catAction = 'color'; col.textContent = '换色'; col.title = '换一种颜色';
      var del = document.createElement('button'); del.type = 'button'; del.dataset.catAction = 'delete'; del.textContent = '✕'; del.title = '删除分类（条目保留，变为未分类）';
      chip.append(name, count, ren, col, del);
      box.appendChild(chip);
    });
    var sel = page.querySelector('[data-filter]');
    sel.textContent = '';
    sel.appendChild(option('', '全部（' + items.length + '）', state.filter === ''));
    cats.forEach(function (c) {
      var n = items.filter(function (it) { return it.category === c.id; }).length;
      sel.appendChild(option(c.id, c.name + '（' + n + '）', state.filter === c.id));
    });
    sel.appendChild(option('-', '未分类（' + items.filter(function (it) { return !it.category; }).length + '）', state.filter === '-'));
  }
  function renderCollection() {
    var page = document.querySelector('[data-collection-page]');
    if (!page) return;
    var list = page.querySelector('[data-collection-list]');
    var items = load(), cats = loadCats();
    if (state.filter && state.filter !== '-' && !cats.some(function (c) { return c.id === state.filter; })) state.filter = '';
    renderCats(page, items, cats);
    var shown = itemsShown(items, state.filter);
    list.textContent = '';
    page.querySelector('[data-collection-empty]').hidden = items.length > 0;
    page.querySelector('[data-collection-summary]').textContent = items.length
      ? '共 ' + items.length + ' 条' + (state.filter ? '，显示 ' + shown.length + ' 条' : '') : '';
    items.forEach(function (it, i) {
      if (shown.indexOf(it) < 0) return;
      var li = document.createElement('li');
      li.draggable = !state.filter; li.dataset.index = String(i); li.dataset.id = it.id;
      var cat = cats.filter(function (c) { return c.id === it.category; })[0];
      if (cat) { li.classList.add('has-cat'); li.style.setProperty('--cat', cat.color); }
      var tools = document.createElement('span'); tools.className = 'item-tools';
      [['up', '↑', '上移'], ['down', '↓', '下移'], ['copy', '复制', '复制这一条（含出处）'], ['remove', '✕', '删除']].forEach(function (t) {
        var b = document.createElement('button'); b.type = 'button'; b.dataset.move = t[0]; b.textContent = t[1]; b.title = t[2];
        if (state.filter && (t[0] === 'up' || t[0] === 'down')) b.disabled = true;
        tools.appendChild(b);
      });
      var p = document.createElement('p'); p.className = 'item-text';
      var k = document.createElement('span'); k.className = 'item-kind'; k.textContent = KIND_LABEL[it.kind] || it.kind;
      p.appendChild(k); p.appendChild(document.createTextNode(it.text));
      var s = document.createElement('div'); s.className = 'item-source';
      if (it.doc_id) {
        var a = document.createElement('a');
        a.href = '/doc/' + encodeURIComponent(it.doc_id) + (it.paragraph_id ? '?p=' + encodeURIComponent(it.paragraph_id) + '#p' + encodeURIComponent(it.paragraph_id) : '');
        a.textContent = PREFIX + citeOf(it);
        s.appendChild(a);
      } else { s.textContent = PREFIX + citeOf(it); }
      var meta = document.createElement('div'); meta.className = 'item-meta';
      var lab = document.createElement('label'); lab.textContent = '分类 ';
      var sel = document.createElement('select'); sel.dataset.itemCategory = '';
      sel.appendChild(option('', '未分类', !it.category));
      cats.forEach(function (c) { sel.appendChild(option(c.id, c.name, it.category === c.id)); });
      lab.appendChild(sel);
      var note = document.createElement('textarea'); note.dataset.itemNote = ''; note.rows = 1;
      note.placeholder = '批注（可选）：为什么收这一条、准备用在哪里'; note.value = it.note || '';
      note.setAttribute('aria-label', '批注');
      meta.append(lab, note);
      li.append(tools, p, s, meta);
      list.appendChild(li);
    });
  }
  function itemIndex(el) { return Number(el.closest('li').dataset.index); }
  function updateItem(i, change) {
    var items = load();
    if (!items[i]) return;
    Object.assign(items[i], change);
    save(items);
  }
  function newCategoryId(cats) {
    var id;
    do { id = 'c' + Math.random().toString(36).slice(2, 8); } while (cats.some(function (c) { return c.id === id; }));
    return id;
  }
  function importFile(file) {
    var reader = new FileReader();
    reader.onload = function () {
      var data;
      try { data = JSON.parse(String(reader.result)); } catch (e) { toast('无法读取：' + file.name + ' 不是素材篮文件（JSON 有误）'); return; }
      var inItems = Array.isArray(data) ? data : data && data.format === FILE_FORMAT && Array.isArray(data.items) ? data.items : null;
      if (!inItems) { toast('无法读取：' + file.name + ' 不是素材篮文件'); return; }
      var cats = loadCats(), items = load(), catMap = {};
      (Array.isArray(data.categories) ? data.categories : []).forEach(function (c) {
        if (!c || typeof c.name !== 'string' || !c.name.trim()) return;
        var same = cats.filter(function (x) { return x.name === c.name; })[0];
        if (!same) { same = { id: newCategoryId(cats), name: c.name.slice(0, 40), color: COLORS.indexOf(c.color) >= 0 ? c.color : COLORS[cats.length % COLORS.length] }; cats.push(same); }
        catMap[c.id] = same.id;
      });
      var have = {}, added = 0;
      items.forEach(function (it) { have[it.id] = true; });
      inItems.forEach(function (it) {
        if (!it || typeof it.text !== 'string' || !it.text.trim()) return;
        var clean = {
          id: typeof it.id === 'string' && it.id ? it.id : 'excerpt::' + hash(it.text),
          kind: KIND_LABEL[it.kind] ? it.kind : 'excerpt', text: it.text,
          paragraph_id: typeof it.paragraph_id === 'number' ? it.paragraph_id : null,
          doc_id: typeof it.doc_id === 'number' ? it.doc_id : null,
          title: String(it.title || ''), unit: String(it.unit || ''), date: String(it.date || ''),
          site: String(it.site || ''), url: /^https?:\/\//.test(String(it.url || '')) ? String(it.url) : '',
          cite: String(it.cite || ''), note: String(it.note || ''), category: catMap[it.category] || '',
          added: String(it.added || new Date().toISOString())
        };
        if (have[clean.id]) return;
        have[clean.id] = true; items.push(clean); added++;
      });
      saveCats(cats); save(items); renderCollection();
      toast('已导入 ' + added + ' 条' + (inItems.length > added ? '（' + (inItems.length - added) + ' 条已在素材篮中或无效）' : ''));
    };
    reader.readAsText(file);
  }
  function upgradeCitations() {
    var items = load(), todo = items.filter(function (it) { return !it.cite && it.paragraph_id; }).slice(0, 200);
    if (!todo.length) return;
    Promise.all(todo.map(function (it) {
      return fetch('/api/paragraphs/' + encodeURIComponent(it.paragraph_id)).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { return d && d.document && d.document.id === it.doc_id ? [it.id, d.citation] : null; })
        .catch(function () { return null; });
    })).then(function (pairs) {
      var map = {};
      pairs.forEach(function (p) { if (p && p[1]) map[p[0]] = p[1]; });
      var now = load(), changed = false;
      now.forEach(function (it) { if (!it.cite && map[it.id]) { it.cite = map[it.id]; changed = true; } });
      if (changed) { save(now); renderCollection(); }
    });
  }
  function initCollection() {
    var page = document.querySelector('[data-collection-page]');
    if (!page) return;
    renderCollection();
    upgradeCitations();
    var list = page.querySelector('[data-collection-list]');
    list.addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-move]');
      if (!b) return;
      var i = itemIndex(b), items = load();
      if (b.dataset.move === 'copy') {
        copyText(withCite(items[i].text, citeOf(items[i]))).then(function () { toast('已复制（含出处）'); });
        return;
      }
      if (b.dataset.move === 'remove') items.splice(i, 1);
      else {
        var j = b.dataset.move === 'up' ? i - 1 : i + 1;
        if (j < 0 || j >= items.length) return;
        var t = items[i]; items[i] = items[j]; items[j] = t;
      }
      save(items); renderCollection();
    });
    list.addEventListener('change', function (ev) {
      if (ev.target.matches('[data-item-category]')) { updateItem(itemIndex(ev.target), { category: ev.target.value }); renderCollection(); }
    });
    list.addEventListener('input', function (ev) {
      if (ev.target.matches('[data-item-note]')) updateItem(itemIndex(ev.target), { note: ev.target.value });
    });
    var dragFrom = null;
    list.addEventListener('dragstart', function (ev) {
      var li = ev.target.closest('li'); if (!li || state.filter) return;
      dragFrom = Number(li.dataset.index); li.classList.add('dragging');
      ev.dataTransfer.effectAllowed = 'move'; ev.dataTransfer.setData('text/plain', li.dataset.index);
    });
    list.addEventListener('dragover', function (ev) { if (dragFrom !== null) ev.preventDefault(); });
    list.addEventListener('drop', function (ev) {
      var li = ev.target.closest('li'); if (!li || dragFrom === null) return;
      ev.preventDefault();
      var to = Number(li.dataset.index), items = load();
      var moved = items.splice(dragFrom, 1)[0]; items.splice(to, 0, moved);
      dragFrom = null; save(items); renderCollection();
    });
    list.addEventListener('dragend', function () { dragFrom = null; renderCollection(); });
    page.querySelector('[data-filter]').addEventListener('change', function (ev) { state.filter = ev.target.value; renderCollection(); });
    page.querySelector('[data-new-category]').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var input = ev.target.querySelector('input'), name = input.value.trim().slice(0, 40), cats = loadCats();
      if (!name) return;
      if (cats.some(function (c) { return c.name === name; })) { toast('已有分类“' + name + '”'); return; }
      cats.push({ id: newCategoryId(cats), name: name, color: COLORS[cats.length % COLORS.length] });
      saveCats(cats); input.value = ''; renderCollection();
    });
    page.querySelector('[data-categories]').addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-cat-action]'); if (!b) return;
      var id = b.closest('[data-cat]').dataset.cat, cats = loadCats();
      var c = cats.filter(function (x) { return x.id === id; })[0]; if (!c) return;
      if (b.dataset.catAction === 'rename') {
        var name = (window.prompt('分类的新名称', c.name) || '').trim().slice(0, 40);
        if (!name || cats.some(function (x) { return x.name === name && x.id !== id; })) return;
        c.name = name;
      } else if (b.dataset.catAction === 'color') {
        c.color = COLORS[(COLORS.indexOf(c.color) + 1) % COLORS.length];
      } else {
        if (!window.confirm('删除分类“' + c.name + '”？其中的条目保留，变为未分类。')) return;
        cats = cats.filter(function (x) { return x.id !== id; });
        save(load().map(function (it) { if (it.category === id) it.category = ''; return it; }));
      }
      saveCats(cats); renderCollection();
    });
    var fileInput = page.querySelector('[data-import-file]');
    fileInput.addEventListener('change', function () { if (fileInput.files[0]) importFile(fileInput.files[0]); fileInput.value = ''; });
    page.querySelector('.toolbar').addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-action]'); if (!b) return;
      var all = load(), cats = loadCats(), items = itemsShown(all, state.filter);
      var what = state.filter ? '（当前分类）' : '';
      if (b.dataset.action === 'import') { fileInput.click(); return; }
      if (b.dataset.action === 'clear') {
        if (all.length && window.confirm('清空素材篮中的 ' + all.length + ' 条？')) { save([]); renderCollection(); }
        return;
      }
      if (!items.length) { toast('素材篮' + what + '是空的'); return; }
      if (b.dataset.action === 'copy-all') {
        copyText(asText(items, cats)).then(function () { toast('已复制 ' + items.length + ' 条' + what + '（含出处）'); });
      } else if (b.dataset.action === 'export') {
        if (b.dataset.format === 'docx') exportDocx(items, cats);
        else if (b.dataset.format === 'file') {
          var used = {};
          items.forEach(function (it) { used[it.category] = true; });
          var body = JSON.stringify({ format: FILE_FORMAT, version: 1, exported: new Date().toISOString(),
            categories: cats.filter(function (c) { return used[c.id]; }), items: items }, null, 1);
          download(new Blob([body], { type: 'application/json;charset=utf-8' }), '素材篮-' + stamp() + '.json');
        } else exportAs(items, b.dataset.format, cats);
      }
    });
  }

  window.addEventListener('storage', function (ev) {
    if (ev.key === KEY || ev.key === CATS) { updateCount(); renderCollection(); markCollected(); }
  });
  document.addEventListener('DOMContentLoaded', function () {
    updateCount(); markCollected(); initResults(); initFacets(); initDocument(); initCollection();
  });
  window.corpusCollection = { load: load, loadCats: loadCats, asText: asText, withCite: withCite, KEY: KEY, CATS: CATS };
})();
