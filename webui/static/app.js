/* 素材篮 (collection) and small page helpers. Vanilla JS, no dependencies.
   The collection lives in localStorage under KEY, so it survives browser restarts.
   Document text is only ever put into the page with textContent, never innerHTML. */
(function () {
  'use strict';
  var KEY = 'corpus.collection.v1';

  function load() {
    try {
      var v = JSON.parse(localStorage.getItem(KEY) || '[]');
      return Array.isArray(v) ? v : [];
    } catch (e) { return []; }
  }
  function save(items) {
    localStorage.setItem(KEY, JSON.stringify(items));
    updateCount(items);
  }
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

  function citation(it) {
    var parts = [];
    if (it.unit) parts.push(it.unit);
    if (it.date) parts.push(it.date);
    var src = [it.site, it.url].filter(Boolean).join(' ');
    return '——《' + (it.title || '无标题') + '》' + (parts.length ? '（' + parts.join('，') + '）' : '') +
      (src ? '，来源：' + src : '');
  }
  function asText(items) {
    return items.map(function (it, i) { return (i + 1) + '. ' + it.text + '\n' + citation(it); }).join('\n\n') + '\n';
  }
  function csvCell(v) {
    v = v == null ? '' : String(v);
    return /[",\n\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  var FIELDS = ['text', 'kind', 'title', 'unit', 'date', 'site', 'url', 'doc_id', 'paragraph_id', 'added'];
  function exportAs(items, fmt) {
    var body, type;
    if (fmt === 'csv') {
      body = '\ufeff' + [FIELDS.join(',')].concat(items.map(function (it) {
        return FIELDS.map(function (f) { return csvCell(it[f]); }).join(',');
      })).join('\r\n') + '\r\n';
      type = 'text/csv';
    } else if (fmt === 'jsonl') {
      body = items.map(function (it) {
        var o = {}; FIELDS.forEach(function (f) { o[f] = it[f]; }); return JSON.stringify(o);
      }).join('\n') + '\n';
      type = 'application/jsonl';
    } else { body = asText(items); type = 'text/plain'; fmt = 'txt'; }
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([body], { type: type + ';charset=utf-8' }));
    a.download = '素材篮-' + new Date().toISOString().slice(0, 10) + '.' + fmt;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
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

  /* buttons on result cards and document paragraphs */
  function markCollected() {
    var ids = {};
    load().forEach(function (it) { ids[it.id] = true; });
    document.querySelectorAll('button[data-collect]').forEach(function (b) {
      var it = makeItem(b.dataset.collect, b.dataset.text || '', b);
      if (ids[it.id]) { b.classList.add('done'); b.textContent = '✓ 已收藏' + (b.dataset.collect === 'sentence' ? '本句' : '段落'); }
    });
  }
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-collect]');
    if (!b) return;
    if (add(makeItem(b.dataset.collect, b.dataset.text || '', b))) markCollected();
  });

  /* document page: scroll to the hit, add a selected passage, follow the outline */
  function initDocument() {
    var speech = document.querySelector('.speech');
    if (!speech) return;
    var hit = speech.dataset.hit && document.getElementById('p' + speech.dataset.hit);
    if (hit) hit.scrollIntoView({ block: 'center' });
    var btn = document.querySelector('[data-selection-collect]');
    var body = speech.querySelector('.speech-body');
    var pending = null;
    document.addEventListener('mouseup', function (ev) {
      if (ev.target === btn) return;
      setTimeout(function () {
        var sel = window.getSelection();
        var text = sel ? sel.toString().trim() : '';
        if (!text || text.length < 2 || text.length > 5000 || !body.contains(sel.anchorNode)) { btn.hidden = true; return; }
        var node = sel.anchorNode.nodeType === 1 ? sel.anchorNode : sel.anchorNode.parentElement;
        pending = { text: text, el: node };
        var r = sel.getRangeAt(0).getBoundingClientRect();
        btn.style.top = (window.scrollY + r.bottom + 6) + 'px';
        btn.style.left = (window.scrollX + r.left) + 'px';
        btn.hidden = false;
      }, 0);
    });
    btn.addEventListener('click', function () {
      if (pending) add(makeItem('excerpt', pending.text, pending.el));
      btn.hidden = true; pending = null;
      window.getSelection().removeAllRanges();
    });
    var links = Array.prototype.slice.call(document.querySelectorAll('.outline a[href^="#p"]'));
    if (links.length && 'IntersectionObserver' in window) {
      var byId = {};
      links.forEach(function (a) { byId[a.getAttribute('href').slice(1)] = a; });
      var obs = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (e.isIntersecting && byId[e.target.id]) {
            links.forEach(function (a) { a.classList.remove('current'); });
            byId[e.target.id].classList.add('current');
          }
        });
      }, { rootMargin: '0px 0px -70% 0px' });
      Object.keys(byId).forEach(function (id) { var h = document.getElementById(id); if (h) obs.observe(h); });
    }
  }

  /* collection page */
  var KIND_LABEL = { paragraph: '段落', sentence: '句子', excerpt: '摘录' };
  function renderCollection() {
    var list = document.querySelector('[data-collection-list]');
    if (!list) return;
    var items = load();
    list.textContent = '';
    document.querySelector('[data-collection-empty]').hidden = items.length > 0;
    var summary = document.querySelector('[data-collection-summary]');
    summary.textContent = items.length ? '共 ' + items.length + ' 条' : '';
    items.forEach(function (it, i) {
      var li = document.createElement('li');
      li.draggable = true; li.dataset.index = String(i); li.dataset.id = it.id;
      var tools = document.createElement('span'); tools.className = 'item-tools';
      [['up', '↑', '上移'], ['down', '↓', '下移'], ['remove', '✕', '删除']].forEach(function (t) {
        var b = document.createElement('button'); b.type = 'button'; b.dataset.move = t[0]; b.textContent = t[1]; b.title = t[2];
        tools.appendChild(b);
      });
      var p = document.createElement('p'); p.className = 'item-text';
      var k = document.createElement('span'); k.className = 'item-kind'; k.textContent = KIND_LABEL[it.kind] || it.kind;
      p.appendChild(k); p.appendChild(document.createTextNode(it.text));
      var s = document.createElement('div'); s.className = 'item-source';
      if (it.doc_id) {
        var a = document.createElement('a');
        a.href = '/doc/' + encodeURIComponent(it.doc_id) + (it.paragraph_id ? '?p=' + encodeURIComponent(it.paragraph_id) + '#p' + encodeURIComponent(it.paragraph_id) : '');
        a.textContent = citation(it);
        s.appendChild(a);
      } else { s.textContent = citation(it); }
      li.appendChild(tools); li.appendChild(p); li.appendChild(s);
      list.appendChild(li);
    });
  }
  function initCollection() {
    var page = document.querySelector('[data-collection-page]');
    if (!page) return;
    renderCollection();
    var list = page.querySelector('[data-collection-list]');
    list.addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-move]');
      if (!b) return;
      var i = Number(b.closest('li').dataset.index), items = load();
      if (b.dataset.move === 'remove') items.splice(i, 1);
      else {
        var j = b.dataset.move === 'up' ? i - 1 : i + 1;
        if (j < 0 || j >= items.length) return;
        var t = items[i]; items[i] = items[j]; items[j] = t;
      }
      save(items); renderCollection();
    });
    var dragFrom = null;
    list.addEventListener('dragstart', function (ev) {
      var li = ev.target.closest('li'); if (!li) return;
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
    page.querySelector('.toolbar').addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-action]'); if (!b) return;
      var items = load();
      if (b.dataset.action === 'copy-all') {
        if (!items.length) { toast('素材篮是空的'); return; }
        copyText(asText(items)).then(function () { toast('已复制 ' + items.length + ' 条（含出处）'); });
      } else if (b.dataset.action === 'export') {
        if (!items.length) { toast('素材篮是空的'); return; }
        exportAs(items, b.dataset.format);
      } else if (b.dataset.action === 'clear') {
        if (items.length && window.confirm('清空素材篮中的 ' + items.length + ' 条？')) { save([]); renderCollection(); }
      }
    });
  }

  window.addEventListener('storage', function (ev) {
    if (ev.key === KEY) { updateCount(); renderCollection(); markCollected(); }
  });
  document.addEventListener('DOMContentLoaded', function () {
    updateCount(); markCollected(); initDocument(); initCollection();
  });
  window.corpusCollection = { load: load, asText: asText, KEY: KEY };
})();
