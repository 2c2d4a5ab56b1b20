/*
 * Concierge chat widget. One script tag adds a shopping assistant to any page:
 *
 *   <script src="https://concierge.example/widget.js" data-lang="auto"></script>
 *
 * Options are data-* attributes on that tag or fields of Concierge.init().
 * They are server (default: this script's origin), lang (zh, en or auto),
 * color, position (right or left), greeting, page-kind, product-id and
 * cart-value. With debug, every frame is recorded in window.__conciergeSent
 * and window.__conciergeReceived. With manual, the widget waits for
 * Concierge.init() instead of starting at once. docs/widget.md has details.
 *
 * The widget speaks WebSocket protocol v1 on /ws (see docs/protocol.md). It
 * lives in a shadow root so it neither inherits nor leaks page styles, and
 * it builds every node from model, staff or shopper text with textContent.
 * It makes no request to any host other than the configured server.
 */
(function () {
  'use strict';

  if (window.Concierge && window.Concierge.version) {
    return; // a second copy of the script on the same page
  }

  var PROTOCOL = 1;
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 15000;
  var MAX_QUEUED_EVENTS = 100;
  var TYPING_TIMEOUT_MS = 6000;
  var PENDING_TIMEOUT_MS = 30000; // hide the typing dots if no reply frame comes
  var EVENT_NAMES = ['page_view', 'product_view', 'add_to_cart', 'remove_from_cart',
    'checkout', 'purchase', 'offer_click', 'offer_redeem', 'feedback'];
  var EVENT_FIELDS = ['product_id', 'category', 'offer_id', 'turn_id', 'value', 'rating', 'page'];
  var PAGE_KINDS = ['home', 'category', 'product', 'cart', 'checkout', 'other'];

  var STRINGS = {
    en: {
      title: 'Shopping assistant',
      subtitleOnline: 'Online · replies in seconds',
      subtitleOffline: 'Offline · reconnecting…',
      subtitleAgent: 'Chatting with {agent}',
      open: 'Open chat with the shopping assistant',
      close: 'Close chat',
      greeting: 'Hi! I can help you find products, compare options and check offers. What are you looking for?',
      placeholder: 'Ask about products, sizes, gifts…',
      input: 'Message',
      send: 'Send',
      mic: 'Speak your message',
      micStop: 'Stop listening',
      readAloud: 'Read replies aloud',
      offline: 'You are offline. Messages will be sent when the connection is back.',
      queued: 'Waiting for connection',
      failed: 'Not sent',
      retry: 'Retry',
      helpful: 'Helpful',
      notHelpful: 'Not helpful',
      thanks: 'Thanks for the feedback',
      copy: 'Copy',
      copied: 'Copied',
      copyCode: 'Copy code {code}',
      code: 'Code',
      offer: 'Offer',
      view: 'View',
      wasPrice: 'was {price}',
      outOfStock: 'Out of stock',
      products: 'Suggested products',
      relaxed: 'Nothing matched exactly, so these are the closest options.',
      typing: '{who} is typing…',
      assistant: 'Assistant',
      you: 'You',
      agentJoined: '{agent} from our team joined the chat.',
      agentLeft: 'The assistant is back.',
      agentRequested: 'A member of our team has been asked to join.',
      rateLimited: 'You are sending messages too quickly. {message}',
      errorNote: 'Something went wrong: {message}',
      unauthorized: 'Your session could not be verified. Please reload the page.',
      quickReplies: 'Suggested replies'
    },
    zh: {
      title: '购物助手',
      subtitleOnline: '在线 · 秒回',
      subtitleOffline: '离线 · 正在重新连接…',
      subtitleAgent: '正在与 {agent} 对话',
      open: '打开购物助手对话',
      close: '关闭对话',
      greeting: '你好！我可以帮你找商品、比较款式、查看优惠。想找点什么？',
      placeholder: '问问商品、尺码、礼物…',
      input: '消息',
      send: '发送',
      mic: '语音输入',
      micStop: '停止聆听',
      readAloud: '朗读回复',
      offline: '网络已断开，恢复连接后会自动发送消息。',
      queued: '等待连接',
      failed: '未发送',
      retry: '重试',
      helpful: '有帮助',
      notHelpful: '没帮助',
      thanks: '感谢反馈',
      copy: '复制',
      copied: '已复制',
      copyCode: '复制优惠码 {code}',
      code: '优惠码',
      offer: '优惠',
      view: '查看',
      wasPrice: '原价 {price}',
      outOfStock: '暂时缺货',
      products: '推荐商品',
      relaxed: '没有完全符合的商品，以下是最接近的选择。',
      typing: '{who} 正在输入…',
      assistant: '助手',
      you: '你',
      agentJoined: '客服 {agent} 已加入对话。',
      agentLeft: '购物助手回来了。',
      agentRequested: '已为您转接人工客服，请稍候。',
      rateLimited: '发送太频繁了。{message}',
      errorNote: '出了点问题：{message}',
      unauthorized: '无法验证你的身份，请刷新页面。',
      quickReplies: '快捷回复'
    }
  };

  var ICONS = {
    chat: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"/></svg>',
    close: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/></svg>',
    send: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4l17.45-7.48a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z"/></svg>',
    mic: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11z"/></svg>',
    speaker: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 7.97v8.05A4.5 4.5 0 0 0 16.5 12zM14 3.23v2.06a7 7 0 0 1 0 13.42v2.06A9 9 0 0 0 14 3.23z"/></svg>',
    up: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.31l.95-4.57.03-.32a1.5 1.5 0 0 0-.44-1.06L13.17 1 6.59 7.59A1.98 1.98 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z"/></svg>',
    down: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L10.83 23l6.58-6.59c.37-.36.59-.86.59-1.41V5a2 2 0 0 0-2-2H7a2 2 0 0 0-1.84 1.22L2.14 11.27c-.09.23-.14.47-.14.73v2z"/></svg>',
    tag: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M21.41 11.58l-9-9A2 2 0 0 0 11 2H4a2 2 0 0 0-2 2v7c0 .55.22 1.05.59 1.42l9 9a2 2 0 0 0 2.82 0l7-7a2 2 0 0 0 0-2.84zM6.5 8A1.5 1.5 0 1 1 8 6.5 1.5 1.5 0 0 1 6.5 8z"/></svg>'
  };

  // ---------------------------------------------------------------- helpers

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return values && values[key] != null ? String(values[key]) : match;
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text != null) {
      node.textContent = text;
    }
    return node;
  }

  // icon returns a span containing one of the constant SVG icons above.
  // Only these constants ever go through innerHTML.
  function icon(name) {
    var span = el('span', 'icon');
    span.innerHTML = ICONS[name];
    return span;
  }

  function randomID(prefix) {
    var bytes = new Uint8Array(8);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var hex = '';
    for (var i = 0; i < bytes.length; i++) {
      hex += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    }
    return prefix + hex;
  }

  function resolveLanguage(preference) {
    if (preference === 'zh' || preference === 'en') {
      return preference;
    }
    var tag = document.documentElement.getAttribute('lang') || navigator.language || 'en';
    return /^zh/i.test(tag) ? 'zh' : 'en';
  }

  // safeURL resolves href against base and returns it only when it is an
  // http(s) URL, so model text cannot produce javascript: or data: links.
  function safeURL(href, base) {
    if (typeof href !== 'string' || href.trim() === '') {
      return null;
    }
    try {
      var url = new URL(href.trim(), base);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
    } catch (e) {
      return null;
    }
  }

  function formatMoney(value, currency, lang) {
    if (typeof value !== 'number' || !isFinite(value) || value <= 0) {
      return '';
    }
    var digits = Number.isInteger(value) ? 0 : 2;
    try {
      return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', {
        style: 'currency',
        currency: currency || 'USD',
        minimumFractionDigits: digits,
        maximumFractionDigits: digits
      }).format(value);
    } catch (e) {
      return value.toFixed(digits) + (currency ? ' ' + currency : '');
    }
  }

  // Colour helpers keep the accent colour readable: white text on the
  // accent needs a contrast ratio of at least 4.5 (WCAG 2.1 AA).
  function parseHex(color) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(color || '').trim());
    if (!m) {
      return null;
    }
    var hex = m[1].length === 3 ? m[1].replace(/(.)/g, '$1$1') : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
  }

  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function toHex(rgb) {
    return '#' + rgb.map(function (v) {
      var s = Math.round(v).toString(16);
      return s.length === 1 ? '0' + s : s;
    }).join('');
  }

  // readableAccent darkens color until white text on it reaches 4.5:1.
  function readableAccent(color) {
    var rgb = parseHex(color) || parseHex('#0a7cff');
    for (var i = 0; i < 40 && 1.05 / (luminance(rgb) + 0.05) < 4.5; i++) {
      rgb = rgb.map(function (v) { return v * 0.94; });
    }
    return toHex(rgb);
  }

  // ---------------------------------------------------------------- markdown

  var INLINE = /`([^`\n]+)`|\*\*([^*\n]+?)\*\*|\*([^*\s][^*\n]*?)\*|\[([^\]\n]+)\]\(([^()\s]+)\)/g;

  // appendInline adds text to parent, turning `code`, **bold**, *italic*
  // and [label](url) into elements. Every piece of text goes in through
  // textContent or a text node.
  function appendInline(parent, text, base, depth) {
    var last = 0;
    var match;
    var re = new RegExp(INLINE.source, 'g');
    while ((match = re.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      if (match[1] != null) {
        parent.appendChild(el('code', null, match[1]));
      } else if (match[2] != null || match[3] != null) {
        var node = el(match[2] != null ? 'strong' : 'em');
        if (depth < 2) {
          appendInline(node, match[2] != null ? match[2] : match[3], base, depth + 1);
        } else {
          node.textContent = match[2] != null ? match[2] : match[3];
        }
        parent.appendChild(node);
      } else {
        parent.appendChild(link(match[4], match[5], base));
      }
      last = re.lastIndex;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function link(label, href, base) {
    var url = safeURL(href, base);
    if (!url) {
      return document.createTextNode(label);
    }
    var a = el('a', null, label);
    a.href = url.href;
    if (url.origin !== location.origin) {
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    }
    return a;
  }

  // renderMarkdown builds a fragment from the small Markdown subset that
  // replies use: paragraphs, line breaks, "- " lists and inline marks.
  function renderMarkdown(text, base) {
    var fragment = document.createDocumentFragment();
    var lines = String(text || '').replace(/\r\n?/g, '\n').split('\n');
    var paragraph = null;
    var list = null;
    lines.forEach(function (line) {
      var item = /^\s*[-*•]\s+(.*)$/.exec(line);
      if (item) {
        paragraph = null;
        if (!list) {
          list = fragment.appendChild(el('ul'));
        }
        appendInline(list.appendChild(el('li')), item[1], base, 0);
        return;
      }
      list = null;
      if (line.trim() === '') {
        paragraph = null;
        return;
      }
      if (paragraph) {
        paragraph.appendChild(el('br'));
      } else {
        paragraph = fragment.appendChild(el('p'));
      }
      appendInline(paragraph, line, base, 0);
    });
    return fragment;
  }

  function plainText(text) {
    return String(text || '')
      .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
      .replace(/[*`]/g, '')
      .replace(/^\s*[-•]\s+/gm, '');
  }

  // ---------------------------------------------------------------- styles

  var CSS = [
    ':host{all:initial;position:fixed;z-index:2147483000;bottom:20px;right:20px;',
    'font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;',
    'font-size:15px;line-height:1.45;color:#1c2230;--accent:#0a6cdf;--accent-ink:#fff;--agent:#0b7a55;',
    '--line:#e3e6ec;--muted:#596170;--bg:#fff;--bubble:#f1f3f7;--focus:#ffb020}',
    ':host([data-position=left]){right:auto;left:20px}',
    '*,*::before,*::after{box-sizing:border-box}',
    '[hidden]{display:none!important}',
    'button{font:inherit;color:inherit;cursor:pointer}',
    ':focus-visible{outline:3px solid var(--focus);outline-offset:2px}',
    '.icon{display:inline-flex;width:20px;height:20px}.icon svg{width:100%;height:100%}',
    '.launcher{position:relative;width:60px;height:60px;border-radius:50%;border:0;background:var(--accent);color:var(--accent-ink);',
    'box-shadow:0 8px 24px rgba(16,24,40,.25);display:flex;align-items:center;justify-content:center;transition:transform .15s}',
    '.launcher:hover{transform:scale(1.05)}.launcher .icon{width:28px;height:28px}',
    '.badge{position:absolute;top:2px;right:2px;min-width:14px;height:14px;border-radius:7px;background:#d92d20;border:2px solid #fff}',
    '.launcher[data-offline]::after{content:"";position:absolute;bottom:3px;right:3px;width:12px;height:12px;border-radius:50%;background:#8a93a3;border:2px solid #fff}',
    '.panel{position:absolute;bottom:76px;right:0;width:380px;height:min(620px,calc(100vh - 120px));background:var(--bg);',
    'border-radius:18px;box-shadow:0 18px 50px rgba(16,24,40,.28);display:flex;flex-direction:column;overflow:hidden;border:1px solid var(--line)}',
    ':host([data-position=left]) .panel{right:auto;left:0}',
    '.head{display:flex;align-items:center;gap:10px;padding:14px 12px 14px 16px;background:var(--accent);color:var(--accent-ink)}',
    '.avatar{flex:none;width:34px;height:34px;border-radius:50%;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:14px}',
    '.head .avatar{background:rgba(255,255,255,.2)}',
    '.head-text{flex:1;min-width:0}.title{font-weight:700;font-size:16px;margin:0}',
    '.subtitle{font-size:12.5px;opacity:.95}',
    '.head button{background:transparent;border:0;color:inherit;width:36px;height:36px;border-radius:10px;display:flex;align-items:center;justify-content:center}',
    '.head button:hover{background:rgba(255,255,255,.16)}',
    '.head button[aria-pressed=true]{background:rgba(255,255,255,.28)}',
    '.offline{padding:8px 14px;font-size:13px;background:#fff4e0;color:#5c3b00;border-bottom:1px solid #f3dfb8}',
    '.log{flex:1;overflow-y:auto;padding:16px 14px 8px;display:flex;flex-direction:column;gap:10px;scroll-behavior:smooth;overscroll-behavior:contain}',
    '.row{display:flex;gap:8px;align-items:flex-start;max-width:100%}',
    '.row.user{justify-content:flex-end}',
    '.row .avatar{width:28px;height:28px;font-size:12px;background:#e7ecf5;color:#33415c}',
    '.row.agent .avatar{background:var(--agent);color:#fff}',
    '.stack{display:flex;flex-direction:column;gap:6px;min-width:0;max-width:85%}',
    '.row.user .stack{align-items:flex-end}',
    '.who{font-size:12px;color:var(--muted);margin-left:2px}',
    '.bubble{padding:9px 13px;border-radius:16px;background:var(--bubble);overflow-wrap:anywhere;white-space:normal}',
    '.bubble p{margin:0}.bubble p+p,.bubble p+ul,.bubble ul+p{margin-top:8px}',
    '.bubble ul{margin:4px 0;padding-left:20px}.bubble li{margin:2px 0}',
    '.bubble code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:rgba(16,24,40,.08);padding:1px 5px;border-radius:5px}',
    '.bubble a{color:#0550ae;text-decoration:underline}',
    '.row.user .bubble{background:var(--accent);color:var(--accent-ink);border-bottom-right-radius:6px;white-space:pre-wrap}',
    '.row.bot .bubble{border-bottom-left-radius:6px}',
    '.row.agent .bubble{background:#e6f4ee;border:1px solid #bfe3d2;border-bottom-left-radius:6px}',
    '.streaming .bubble::after{content:"▍";margin-left:1px;animation:blink 1s steps(2) infinite;color:var(--muted)}',
    '@keyframes blink{50%{opacity:0}}',
    '.meta{font-size:12px;color:var(--muted)}',
    '.meta button{background:none;border:0;color:#0550ae;text-decoration:underline;padding:0 0 0 6px;font-size:12px}',
    '.note{align-self:center;font-size:12.5px;color:var(--muted);background:#f6f7f9;border-radius:10px;padding:5px 10px;text-align:center;max-width:90%}',
    '.cards{display:flex;gap:10px;overflow-x:auto;padding:2px 2px 6px;scroll-snap-type:x mandatory;max-width:100%;list-style:none;margin:0}',
    '.card{flex:none;width:150px;border:1px solid var(--line);border-radius:14px;overflow:hidden;background:#fff;scroll-snap-align:start}',
    '.card a{display:flex;flex-direction:column;color:inherit;text-decoration:none;height:100%}',
    '.card a:hover .card-title{text-decoration:underline}',
    '.card img{display:block;width:100%;height:auto;aspect-ratio:1;object-fit:cover;background:#f1f3f7}',
    '.card-body{padding:8px 10px 10px;display:flex;flex-direction:column;gap:3px}',
    '.card-title{font-size:13.5px;font-weight:600;line-height:1.3;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}',
    '.price{font-size:14px;font-weight:700}.price s{font-weight:400;color:var(--muted);margin-left:5px;font-size:12.5px}',
    '.price .sale{color:#b42318}',
    '.stock{font-size:12px;color:#b42318}',
    '.offer{border:1px dashed #d0a43a;background:#fffaf0;border-radius:14px;overflow:hidden;cursor:pointer}',
    '.offer img{display:block;width:100%;height:auto;aspect-ratio:3;object-fit:cover}',
    '.offer-body{padding:10px 12px;display:flex;flex-direction:column;gap:6px}',
    '.offer-title{font-weight:700;display:flex;align-items:center;gap:6px}.offer-title .icon{width:16px;height:16px;color:#9a6700}',
    '.offer-copy{margin:0;font-size:13.5px;color:#3d4452}',
    '.code-row{display:flex;gap:6px;align-items:center}',
    '.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:700;letter-spacing:1px;background:#fff;border:1px solid #d0a43a;border-radius:8px;padding:5px 10px;color:#5c3b00}',
    '.copy{border:0;background:#5c3b00;color:#fff;border-radius:8px;padding:6px 12px;font-size:13px;font-weight:600}',
    '.relaxed{font-size:12.5px;color:var(--muted)}',
    '.feedback{display:flex;gap:4px}',
    '.feedback button{background:transparent;border:1px solid transparent;border-radius:8px;width:30px;height:28px;display:flex;align-items:center;justify-content:center;color:#6b7280}',
    '.feedback button .icon{width:16px;height:16px}',
    '.feedback button:hover{background:#f1f3f7}',
    '.feedback button[aria-pressed=true]{color:var(--accent);background:#e8f1fd;border-color:#b9d4f5}',
    '.quick{display:flex;flex-wrap:wrap;gap:6px;padding:0 14px 8px}',
    '.quick button{border:1px solid var(--accent);color:var(--accent);background:#fff;border-radius:999px;padding:6px 12px;font-size:13.5px}',
    '.quick button:hover{background:#eef4fd}',
    '.typing{padding:0 16px 8px;font-size:12.5px;color:var(--muted);display:flex;align-items:center;gap:8px}',
    '.dots{display:inline-flex;gap:3px}.dots i{width:6px;height:6px;border-radius:50%;background:#9aa3b2;animation:dot 1.2s infinite}',
    '.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}',
    '@keyframes dot{0%,60%,100%{opacity:.3;transform:none}30%{opacity:1;transform:translateY(-3px)}}',
    '.composer{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid var(--line);background:#fff}',
    '.composer textarea{flex:1;resize:none;border:1px solid #c9ced8;border-radius:12px;padding:9px 12px;font:inherit;color:inherit;',
    'max-height:120px;min-height:42px;line-height:1.4;background:#fff}',
    '.composer textarea:focus-visible{outline:3px solid var(--focus);outline-offset:0;border-color:transparent}',
    '.composer button{flex:none;width:42px;height:42px;border-radius:12px;border:0;display:flex;align-items:center;justify-content:center}',
    '.send{background:var(--accent);color:var(--accent-ink)}',
    '.send:disabled{opacity:.55;cursor:default}',
    '.mic{background:#f1f3f7;color:#33415c}.mic[aria-pressed=true]{background:#fde8e8;color:#b42318}',
    '.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    '@media (max-width:480px){',
    ':host{bottom:14px;right:14px}:host([data-position=left]){left:14px}',
    ':host([data-open]){inset:0}',
    ':host([data-open]) .launcher{display:none}',
    '.panel{position:fixed;inset:0;width:100%;height:100%;border-radius:0;border:0}',
    '}',
    '@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important;scroll-behavior:auto!important}}'
  ].join('\n');

  // ---------------------------------------------------------------- widget

  function Widget(options) {
    this.options = options;
    this.server = options.server;
    this.lang = resolveLanguage(options.lang);
    this.storagePrefix = 'concierge:v1:' + this.server + ':';
    this.page = {
      kind: PAGE_KINDS.indexOf(options.pageKind) >= 0 ? options.pageKind
        : (location.pathname === '/' ? 'home' : 'other'),
      url: location.href,
      product_id: options.productId || undefined
    };
    this.cartValue = Number(options.cartValue) || 0;

    this.ws = null;
    this.ready = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.offline = false; // true from a lost connection until the next ready
    this.stopped = false;

    this.maxSeq = 0; // resume_after is 0 on a page load, so the history repaints
    this.nodesBySeq = new Map();
    this.streams = new Map(); // turn_id -> {row, bubble, text, interrupted}
    this.outbox = []; // messages without a reply.end: {id, text, row, turnId}
    this.eventQueue = [];
    this.clickedOffers = new Set();
    this.handedOver = false;
    this.agentName = '';
    this.unread = 0;

    if (options.debug) {
      window.__conciergeSent = window.__conciergeSent || [];
      window.__conciergeReceived = window.__conciergeReceived || [];
    }
    this.build();
    this.applyStrings();
    this.showGreeting();
    this.connect();
    if (this.sessionGet('open') === '1') {
      this.open(false);
    }
    var self = this;
    window.addEventListener('online', function () { self.reconnectNow(); });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') {
        self.reconnectNow();
      }
    });
  }

  Widget.prototype.t = function (key, values) {
    var table = STRINGS[this.lang] || STRINGS.en;
    return format(table[key] || STRINGS.en[key] || key, values);
  };

  // ------------------------------------------------------------ storage

  Widget.prototype.storageGet = function (key) {
    try {
      return window.localStorage.getItem(this.storagePrefix + key);
    } catch (e) {
      return null; // without storage, each page load is a new visitor
    }
  };

  Widget.prototype.storageSet = function (key, value) {
    try {
      if (value == null) {
        window.localStorage.removeItem(this.storagePrefix + key);
      } else {
        window.localStorage.setItem(this.storagePrefix + key, value);
      }
    } catch (e) {
      // Storage is full or disabled. The widget keeps working without it.
    }
  };

  Widget.prototype.sessionGet = function (key) {
    try {
      return window.sessionStorage.getItem(this.storagePrefix + key);
    } catch (e) {
      return null;
    }
  };

  Widget.prototype.sessionSet = function (key, value) {
    try {
      window.sessionStorage.setItem(this.storagePrefix + key, value);
    } catch (e) {
      // the open state is a convenience only
    }
  };

  // ------------------------------------------------------------ DOM

  Widget.prototype.build = function () {
    var self = this;
    var host = document.createElement('concierge-widget');
    host.setAttribute('data-position', this.options.position === 'left' ? 'left' : 'right');
    this.host = host;
    var root = host.attachShadow({mode: 'open'});
    this.root = root;

    var style = el('style');
    style.textContent = CSS;
    root.appendChild(style);
    this.applyColor(this.options.color);

    var launcher = el('button', 'launcher');
    launcher.type = 'button';
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'concierge-panel');
    launcher.appendChild(icon('chat'));
    this.badge = launcher.appendChild(el('span', 'badge'));
    this.badge.hidden = true;
    this.badge.setAttribute('aria-hidden', 'true');
    launcher.addEventListener('click', function () { self.toggle(); });
    this.launcher = launcher;

    var panel = el('section', 'panel');
    panel.id = 'concierge-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-modal', 'false');
    panel.setAttribute('aria-labelledby', 'concierge-title');
    panel.hidden = true;
    panel.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        self.close();
      }
    });
    this.panel = panel;

    var head = panel.appendChild(el('header', 'head'));
    this.headAvatar = head.appendChild(el('span', 'avatar', 'AI'));
    this.headAvatar.setAttribute('aria-hidden', 'true');
    var headText = head.appendChild(el('div', 'head-text'));
    this.titleNode = headText.appendChild(el('h2', 'title'));
    this.titleNode.id = 'concierge-title';
    this.subtitle = headText.appendChild(el('div', 'subtitle'));

    this.speakButton = head.appendChild(el('button', 'speak'));
    this.speakButton.type = 'button';
    this.speakButton.appendChild(icon('speaker'));
    this.speakAloud = this.storageGet('speak') === '1';
    this.speakButton.setAttribute('aria-pressed', String(this.speakAloud));
    this.speakButton.hidden = !('speechSynthesis' in window && 'SpeechSynthesisUtterance' in window);
    this.speakButton.addEventListener('click', function () { self.toggleSpeech(); });

    this.closeButton = head.appendChild(el('button', 'close'));
    this.closeButton.type = 'button';
    this.closeButton.appendChild(icon('close'));
    this.closeButton.addEventListener('click', function () { self.close(); });

    this.offlineNote = panel.appendChild(el('div', 'offline'));
    this.offlineNote.setAttribute('role', 'status');
    this.offlineNote.hidden = true;

    this.log = panel.appendChild(el('div', 'log'));
    this.log.setAttribute('role', 'log');
    this.log.setAttribute('aria-live', 'polite');
    this.log.setAttribute('aria-relevant', 'additions');
    this.log.tabIndex = 0;

    this.quick = panel.appendChild(el('div', 'quick'));
    this.quick.setAttribute('role', 'group');
    this.quick.hidden = true;

    this.typing = panel.appendChild(el('div', 'typing'));
    var dots = this.typing.appendChild(el('span', 'dots'));
    dots.setAttribute('aria-hidden', 'true');
    dots.appendChild(el('i'));
    dots.appendChild(el('i'));
    dots.appendChild(el('i'));
    this.typingText = this.typing.appendChild(el('span'));
    this.typing.hidden = true;

    var form = panel.appendChild(el('form', 'composer'));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      self.submit();
    });
    this.input = form.appendChild(el('textarea'));
    this.input.rows = 1;
    this.input.maxLength = 2000;
    this.input.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        self.submit();
      }
    });
    this.input.addEventListener('input', function () { self.resizeInput(); });
    this.micButton = form.appendChild(el('button', 'mic'));
    this.micButton.type = 'button';
    this.micButton.appendChild(icon('mic'));
    this.micButton.setAttribute('aria-pressed', 'false');
    this.micButton.hidden = !(window.SpeechRecognition || window.webkitSpeechRecognition);
    this.micButton.addEventListener('click', function () { self.toggleListening(); });
    this.sendButton = form.appendChild(el('button', 'send'));
    this.sendButton.type = 'submit';
    this.sendButton.appendChild(icon('send'));

    root.appendChild(panel);
    root.appendChild(launcher);
    (document.body || document.documentElement).appendChild(host);
  };

  Widget.prototype.applyColor = function (color) {
    var accent = readableAccent(color || '#0a7cff');
    this.host.style.setProperty('--accent', accent);
  };

  // applyStrings sets every fixed label in the current language.
  Widget.prototype.applyStrings = function () {
    this.host.setAttribute('lang', this.lang === 'zh' ? 'zh-CN' : 'en');
    this.launcher.setAttribute('aria-label', this.t('open'));
    this.titleNode.textContent = this.t('title');
    this.closeButton.setAttribute('aria-label', this.t('close'));
    this.speakButton.setAttribute('aria-label', this.t('readAloud'));
    this.speakButton.title = this.t('readAloud');
    this.log.setAttribute('aria-label', this.t('title'));
    this.quick.setAttribute('aria-label', this.t('quickReplies'));
    this.input.placeholder = this.t('placeholder');
    this.input.setAttribute('aria-label', this.t('input'));
    this.sendButton.setAttribute('aria-label', this.t('send'));
    this.micButton.setAttribute('aria-label', this.t(this.listening ? 'micStop' : 'mic'));
    this.offlineNote.textContent = this.t('offline');
    if (this.greetingBubble && !this.options.greeting) {
      this.greetingBubble.textContent = this.t('greeting');
    }
    this.updateSubtitle();
  };

  Widget.prototype.updateSubtitle = function () {
    var key = this.handedOver ? 'subtitleAgent' : 'subtitleOnline';
    if (this.offline) {
      key = 'subtitleOffline';
    }
    this.subtitle.textContent = this.t(key, {agent: this.agentName});
  };

  Widget.prototype.showGreeting = function () {
    var row = this.messageRow('bot', null);
    row.classList.add('greeting');
    this.greetingBubble = row.bubble;
    this.greetingBubble.textContent = this.options.greeting || this.t('greeting');
    this.log.appendChild(row);
  };

  // messageRow builds a row with an avatar, an optional name and a bubble.
  Widget.prototype.messageRow = function (role, name) {
    var row = el('div', 'row msg ' + role);
    if (role !== 'user') {
      var initial = role === 'agent' ? (name || '?').trim().charAt(0).toUpperCase() : 'AI';
      var avatar = row.appendChild(el('span', 'avatar', initial));
      avatar.setAttribute('aria-hidden', 'true');
    }
    var stack = row.appendChild(el('div', 'stack'));
    if (role === 'agent') {
      stack.appendChild(el('span', 'who', name || ''));
    }
    var label = role === 'user' ? this.t('you') : (role === 'agent' ? name : this.t('assistant'));
    stack.appendChild(el('span', 'sr-only', label + ':'));
    row.bubble = stack.appendChild(el('div', 'bubble'));
    row.stack = stack;
    return row;
  };

  // insertRow places a row before the first row with a larger seq, or at
  // the end, so replayed history keeps its order. Rows without a seq (notes,
  // streaming replies, messages not yet acknowledged) stay where they are.
  Widget.prototype.insertRow = function (row, seq) {
    var stickToBottom = this.nearBottom();
    var before = null;
    if (seq != null) {
      var children = this.log.children;
      for (var i = 0; i < children.length; i++) {
        var otherSeq = children[i].getAttribute('data-seq');
        if (otherSeq && Number(otherSeq) > seq) {
          before = children[i];
          break;
        }
      }
    }
    this.log.insertBefore(row, before);
    if (seq != null) {
      this.setSeq(row, seq);
    }
    if (stickToBottom) {
      this.scrollToBottom();
    }
  };

  Widget.prototype.setSeq = function (row, seq) {
    if (typeof seq !== 'number' || !isFinite(seq)) {
      return;
    }
    row.setAttribute('data-seq', String(seq));
    row.removeAttribute('data-pending');
    this.nodesBySeq.set(seq, row);
    this.noteSeq(seq);
  };

  Widget.prototype.noteSeq = function (seq) {
    if (typeof seq === 'number' && seq > this.maxSeq) {
      this.maxSeq = seq;
    }
  };

  Widget.prototype.nearBottom = function () {
    var log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  };

  Widget.prototype.scrollToBottom = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.note = function (text) {
    var stick = this.nearBottom();
    var node = this.log.appendChild(el('div', 'note', text));
    node.setAttribute('data-note', '');
    if (stick) {
      this.scrollToBottom();
    }
    return node;
  };

  Widget.prototype.resizeInput = function () {
    this.input.style.height = 'auto';
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 120) + 'px';
  };

  // ------------------------------------------------------------ open and close

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.host.setAttribute('data-open', '');
    this.launcher.setAttribute('aria-expanded', 'true');
    this.launcher.setAttribute('aria-label', this.t('close'));
    this.unread = 0;
    this.badge.hidden = true;
    this.sessionSet('open', '1');
    this.scrollToBottom();
    if (focus !== false) {
      this.input.focus();
    }
  };

  Widget.prototype.close = function () {
    var hadFocus = this.root.activeElement != null;
    this.panel.hidden = true;
    this.host.removeAttribute('data-open');
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.setAttribute('aria-label', this.t('open'));
    this.sessionSet('open', '0');
    if (hadFocus) {
      this.launcher.focus();
    }
  };

  Widget.prototype.toggle = function () {
    if (this.panel.hidden) {
      this.open();
    } else {
      this.close();
    }
  };

  Widget.prototype.markUnread = function () {
    if (this.panel.hidden) {
      this.unread++;
      this.badge.hidden = false;
    }
  };

  // ------------------------------------------------------------ connection

  Widget.prototype.wsURL = function () {
    var url = new URL('/ws', this.server);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  };

  Widget.prototype.connect = function () {
    if (this.ws || this.stopped) {
      return;
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    var self = this;
    var ws;
    try {
      ws = new WebSocket(this.wsURL());
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.ready = false;
    ws.onopen = function () {
      if (ws === self.ws) {
        self.sendNow(self.helloFrame());
      }
    };
    ws.onmessage = function (ev) {
      if (ws === self.ws) {
        self.receive(ev.data);
      }
    };
    ws.onclose = function (ev) {
      if (ws === self.ws) {
        self.disconnected(ev);
      }
    };
  };

  // disconnect closes the socket on purpose: its close event is ignored.
  Widget.prototype.disconnect = function () {
    var ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      try {
        ws.close(1000);
      } catch (e) {
        // already closed
      }
    }
  };

  Widget.prototype.disconnected = function (ev) {
    this.ws = null;
    this.ready = false;
    this.interruptStreams();
    this.setOnline(false);
    if (ev && ev.code === 4401) {
      this.stopped = true;
      this.note(this.t('unauthorized'));
      return;
    }
    this.scheduleReconnect();
  };

  // scheduleReconnect waits with exponential backoff and full jitter between
  // half and all of min(15 s, 0.5 s * 2^attempt).
  Widget.prototype.scheduleReconnect = function () {
    if (this.stopped || this.reconnectTimer) {
      return;
    }
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, this.attempt));
    var delay = ceiling / 2 + Math.random() * ceiling / 2;
    this.attempt++;
    var self = this;
    this.reconnectTimer = setTimeout(function () {
      self.reconnectTimer = null;
      self.connect();
    }, delay);
  };

  Widget.prototype.reconnectNow = function () {
    if (!this.ws && this.reconnectTimer && !this.stopped) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.connect();
    }
  };

  Widget.prototype.setOnline = function (online) {
    this.offline = !online;
    this.offlineNote.hidden = online;
    this.panel.setAttribute('data-connection', online ? 'online' : 'offline');
    if (online) {
      this.launcher.removeAttribute('data-offline');
    } else {
      this.launcher.setAttribute('data-offline', '');
    }
    this.updateSubtitle();
  };

  Widget.prototype.helloFrame = function () {
    var nav = navigator.language || '';
    var locale = this.lang === 'zh'
      ? (/^zh/i.test(nav) ? nav : 'zh-CN')
      : (/^en/i.test(nav) ? nav : 'en-US');
    var frame = {
      type: 'hello',
      protocol: PROTOCOL,
      locale: locale,
      timezone: timeZone(),
      device: deviceKind(),
      page: this.pageFrame(),
      resume_after: this.maxSeq
    };
    var visitor = this.storageGet('visitor');
    if (visitor) {
      frame.visitor_id = visitor;
    }
    if (this.options.userToken) {
      frame.user_token = String(this.options.userToken);
    }
    if (this.cartValue > 0) {
      frame.cart_value = this.cartValue;
    }
    return frame;
  };

  Widget.prototype.pageFrame = function () {
    var page = {kind: this.page.kind, url: this.page.url || location.href};
    if (this.page.product_id) {
      page.product_id = String(this.page.product_id);
    }
    return page;
  };

  function timeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch (e) {
      return '';
    }
  }

  function deviceKind() {
    var ua = navigator.userAgent || '';
    if (/Mobi|iPhone|iPod|Android.+Mobile/i.test(ua) || window.innerWidth < 600) {
      return 'mobile';
    }
    if (/iPad|Tablet|Android/i.test(ua)) {
      return 'tablet';
    }
    return 'desktop';
  }

  // sendNow writes a frame if the socket is open and returns whether it did.
  Widget.prototype.sendNow = function (frame) {
    var ws = this.ws;
    if (!ws || ws.readyState !== 1) {
      return false;
    }
    ws.send(JSON.stringify(frame));
    if (this.options.debug) {
      window.__conciergeSent.push(frame);
    }
    return true;
  };

  // ------------------------------------------------------------ frames in

  Widget.prototype.receive = function (data) {
    var frame;
    try {
      frame = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (!frame || typeof frame !== 'object') {
      return;
    }
    if (this.options.debug) {
      window.__conciergeReceived.push(frame);
    }
    switch (frame.type) {
      case 'ready': this.onReady(frame); break;
      case 'reply.start': this.onReplyStart(frame); break;
      case 'reply.delta': this.onReplyDelta(frame); break;
      case 'reply.end': this.onReplyEnd(frame); break;
      case 'agent.message': this.onAgentMessage(frame); break;
      case 'handover': this.onHandover(frame); break;
      case 'typing': this.onTyping(frame); break;
      case 'error': this.onError(frame); break;
      case 'message.ack': this.onMessageAck(frame); break;
      default: break; // event.ack and frames added in later versions
    }
  };

  Widget.prototype.onReady = function (frame) {
    if (typeof frame.visitor_id === 'string' && frame.visitor_id) {
      this.storageSet('visitor', frame.visitor_id);
    }
    this.ready = true;
    this.attempt = 0;
    if (typeof frame.handed_over === 'boolean') {
      this.handedOver = frame.handed_over;
    }
    this.setOnline(true);

    var history = Array.isArray(frame.history) ? frame.history.slice() : [];
    history.sort(function (a, b) { return (a.seq || 0) - (b.seq || 0); });
    var turnsInHistory = new Set();
    for (var i = 0; i < history.length; i++) {
      this.renderHistoryItem(history[i]);
      if (history[i] && history[i].turn_id) {
        turnsInHistory.add(history[i].turn_id);
      }
    }
    this.dropInterruptedStreams();
    this.flushOutbox(turnsInHistory);
    this.flushEvents();
  };

  Widget.prototype.renderHistoryItem = function (item) {
    if (!item || typeof item.seq !== 'number') {
      return;
    }
    this.noteSeq(item.seq);
    if (this.nodesBySeq.has(item.seq)) {
      return; // already on screen
    }
    if (item.role === 'user') {
      var local = this.pendingRowFor(item.text);
      if (local) {
        this.setSeq(local, item.seq);
        return;
      }
      var row = this.messageRow('user');
      row.bubble.textContent = item.text || '';
      this.insertRow(row, item.seq);
      return;
    }
    if (item.role === 'agent') {
      this.addAgentMessage(item.text, item.agent || this.agentName, item.seq);
      return;
    }
    var stream = item.turn_id ? this.streams.get(item.turn_id) : null;
    if (stream) {
      this.finishReply(stream, item);
      return;
    }
    var botRow = this.messageRow('bot');
    this.insertRow(botRow, item.seq);
    this.finishReply({row: botRow, bubble: botRow.bubble}, item, true);
  };

  // pendingRowFor returns the shopper's unacknowledged row with this text,
  // so a message stored before the connection dropped is not shown twice.
  Widget.prototype.pendingRowFor = function (text) {
    for (var i = 0; i < this.outbox.length; i++) {
      var entry = this.outbox[i];
      if (entry.text === text && !entry.row.hasAttribute('data-seq')) {
        return entry.row;
      }
    }
    return null;
  };

  Widget.prototype.onReplyStart = function (frame) {
    var entry = this.findOutbox(frame.in_reply_to);
    if (entry) {
      entry.turnId = frame.turn_id;
      if (typeof frame.user_seq === 'number' && !entry.row.hasAttribute('data-seq')) {
        if (this.nodesBySeq.has(frame.user_seq)) {
          entry.row.remove(); // history already showed this message
        } else {
          this.setSeq(entry.row, frame.user_seq);
        }
      }
      this.setRowState(entry.row, null);
    } else {
      this.noteSeq(frame.user_seq);
    }
    this.streamFor(frame.turn_id);
    this.setTyping(null);
  };

  // onMessageAck numbers a message that staff, not the bot, will answer.
  Widget.prototype.onMessageAck = function (frame) {
    var entry = this.findOutbox(frame.in_reply_to);
    if (!entry || typeof frame.seq !== 'number') {
      this.noteSeq(frame.seq);
      return;
    }
    if (this.nodesBySeq.has(frame.seq)) {
      entry.row.remove();
    } else {
      this.setSeq(entry.row, frame.seq);
    }
    this.setRowState(entry.row, null);
    this.outbox.splice(this.outbox.indexOf(entry), 1);
  };

  Widget.prototype.streamFor = function (turnID) {
    var stream = this.streams.get(turnID);
    if (stream) {
      return stream;
    }
    var row = this.messageRow('bot');
    row.classList.add('streaming');
    row.setAttribute('data-pending', '');
    row.setAttribute('data-turn', turnID || '');
    row.textNode = row.bubble.appendChild(document.createTextNode(''));
    this.insertRow(row, null);
    this.log.setAttribute('aria-busy', 'true');
    stream = {row: row, bubble: row.bubble, text: '', interrupted: false};
    this.streams.set(turnID, stream);
    return stream;
  };

  Widget.prototype.onReplyDelta = function (frame) {
    if (typeof frame.text !== 'string') {
      return;
    }
    var stream = this.streamFor(frame.turn_id);
    var stick = this.nearBottom();
    stream.text += frame.text;
    stream.row.textNode.data = stream.text;
    if (stick) {
      this.scrollToBottom();
    }
  };

  Widget.prototype.onReplyEnd = function (frame) {
    var entry = this.findOutbox(frame.in_reply_to);
    if (entry) {
      this.outbox.splice(this.outbox.indexOf(entry), 1);
    }
    var stream = this.streams.get(frame.turn_id);
    if (typeof frame.seq === 'number' && this.nodesBySeq.has(frame.seq)) {
      if (stream) {
        stream.row.remove(); // a replay of a reply already on screen
        this.streams.delete(frame.turn_id);
      }
      return;
    }
    if (!stream) {
      stream = this.streamFor(frame.turn_id);
    }
    this.finishReply(stream, frame);
    this.setTyping(null);
    this.markUnread();
    this.speak(frame.text);
  };

  // finishReply replaces the streamed text with the final Markdown and adds
  // cards, offer, feedback and quick replies. fromHistory skips the quick
  // replies, which belong to the live conversation only.
  Widget.prototype.finishReply = function (stream, item, fromHistory) {
    var row = stream.row;
    var turnID = item.turn_id || row.getAttribute('data-turn') || '';
    this.streams.delete(turnID);
    row.classList.remove('streaming');
    row.removeAttribute('data-pending');
    row.setAttribute('data-turn', turnID);
    if (typeof item.seq === 'number') {
      this.setSeq(row, item.seq);
    }
    if (this.streams.size === 0) {
      this.log.removeAttribute('aria-busy');
    }

    var text = typeof item.text === 'string' ? item.text : stream.text;
    row.bubble.textContent = '';
    row.bubble.appendChild(renderMarkdown(text, this.server));

    if (item.relaxed) {
      row.stack.appendChild(el('div', 'relaxed', this.t('relaxed')));
    }
    if (Array.isArray(item.products) && item.products.length) {
      row.stack.appendChild(this.productCards(item.products));
    }
    if (item.offer && typeof item.offer === 'object') {
      row.stack.appendChild(this.offerCard(item.offer, turnID));
    }
    if (turnID) {
      row.stack.appendChild(this.feedbackButtons(turnID));
    }
    if (!fromHistory) {
      this.showQuickReplies(item.quick_replies);
    }
    if (this.nearBottom() || !fromHistory) {
      this.scrollToBottom();
    }
  };

  Widget.prototype.interruptStreams = function () {
    this.streams.forEach(function (stream) { stream.interrupted = true; });
    this.setTyping(null);
  };

  // dropInterruptedStreams removes replies cut off by a disconnect that the
  // history did not complete; the resent message streams them again.
  Widget.prototype.dropInterruptedStreams = function () {
    var self = this;
    this.streams.forEach(function (stream, turnID) {
      if (stream.interrupted) {
        stream.row.remove();
        self.streams.delete(turnID);
      }
    });
    if (this.streams.size === 0) {
      this.log.removeAttribute('aria-busy');
    }
  };

  Widget.prototype.onAgentMessage = function (frame) {
    if (typeof frame.seq === 'number' && this.nodesBySeq.has(frame.seq)) {
      return;
    }
    this.setTyping(null);
    this.addAgentMessage(frame.text, frame.agent, frame.seq);
    this.markUnread();
    this.speak(frame.text);
  };

  Widget.prototype.addAgentMessage = function (text, agent, seq) {
    if (agent) {
      this.agentName = agent;
    }
    var row = this.messageRow('agent', agent || this.agentName);
    row.bubble.appendChild(renderMarkdown(text, this.server));
    this.insertRow(row, typeof seq === 'number' ? seq : null);
  };

  Widget.prototype.onHandover = function (frame) {
    if (frame.state === 'agent') {
      this.handedOver = true;
      this.forgetDelivered();
      this.agentName = frame.agent || this.agentName;
      this.note(this.t('agentJoined', {agent: this.agentName}));
    } else if (frame.state === 'requested') {
      this.handedOver = true;
      this.forgetDelivered();
      this.note(this.t('agentRequested'));
    } else if (frame.state === 'bot') {
      this.handedOver = false;
      this.note(this.t('agentLeft'));
    }
    this.updateSubtitle();
  };

  Widget.prototype.onTyping = function (frame) {
    var who = frame.role === 'agent' ? (frame.agent || this.agentName || this.t('assistant')) : this.t('assistant');
    this.setTyping(who, TYPING_TIMEOUT_MS);
  };

  // setTyping shows "who is typing" for timeoutMs, or hides it for null.
  Widget.prototype.setTyping = function (who, timeoutMs) {
    clearTimeout(this.typingTimer);
    if (!who) {
      this.typing.hidden = true;
      return;
    }
    this.typingText.textContent = this.t('typing', {who: who});
    this.typing.hidden = false;
    var self = this;
    this.typingTimer = setTimeout(function () { self.typing.hidden = true; }, timeoutMs);
  };

  Widget.prototype.onError = function (frame) {
    var message = typeof frame.message === 'string' ? frame.message : String(frame.code || '');
    var entry = this.findOutbox(frame.in_reply_to);
    if (entry) {
      this.outbox.splice(this.outbox.indexOf(entry), 1);
      this.setRowState(entry.row, 'failed', frame.retryable ? entry : null);
      this.setTyping(null);
    }
    if (frame.code === 'rate_limited') {
      this.note(this.t('rateLimited', {message: message}));
    } else if (frame.code === 'unauthorized') {
      this.note(this.t('unauthorized'));
    } else {
      this.note(this.t('errorNote', {message: message}));
    }
  };

  // ------------------------------------------------------------ cards

  Widget.prototype.productCards = function (products) {
    var list = el('ul', 'cards');
    list.setAttribute('aria-label', this.t('products'));
    for (var i = 0; i < products.length; i++) {
      var p = products[i];
      if (!p || typeof p !== 'object') {
        continue;
      }
      list.appendChild(this.productCard(p));
    }
    return list;
  };

  Widget.prototype.productCard = function (p) {
    var item = el('li', 'card');
    item.setAttribute('data-product-id', String(p.id || ''));
    var href = safeURL(p.url, this.server);
    var container = item.appendChild(href ? el('a') : el('div'));
    if (href) {
      container.href = href.href;
      if (href.origin !== location.origin) {
        container.target = '_blank';
        container.rel = 'noopener noreferrer';
      }
    }
    var image = safeURL(p.image, this.server);
    if (image) {
      var img = container.appendChild(el('img'));
      img.src = image.href;
      img.alt = '';
      img.loading = 'lazy';
      img.width = 150;
      img.height = 150;
    }
    var body = container.appendChild(el('div', 'card-body'));
    body.appendChild(el('span', 'card-title', String(p.title || p.id || '')));
    var priceText = formatMoney(p.price, p.currency, this.lang);
    if (priceText) {
      var price = body.appendChild(el('span', 'price'));
      var wasText = p.compare_at_price > p.price ? formatMoney(p.compare_at_price, p.currency, this.lang) : '';
      price.appendChild(el('span', wasText ? 'sale' : null, priceText));
      if (wasText) {
        var was = price.appendChild(el('s', null, wasText));
        was.setAttribute('aria-label', this.t('wasPrice', {price: wasText}));
      }
    }
    if (p.in_stock === false) {
      body.appendChild(el('span', 'stock', this.t('outOfStock')));
    }
    return item;
  };

  Widget.prototype.offerCard = function (offer, turnID) {
    var self = this;
    var card = el('div', 'offer');
    card.setAttribute('role', 'group');
    card.setAttribute('data-offer-id', String(offer.id || ''));
    card.setAttribute('aria-label', this.t('offer') + ': ' + String(offer.title || ''));
    var clicked = function () { self.offerClicked(offer, turnID); };
    card.addEventListener('click', clicked);

    var banner = safeURL(offer.banner_url, this.server);
    if (banner) {
      var img = card.appendChild(el('img'));
      img.src = banner.href;
      img.alt = '';
      img.width = 300;
      img.height = 100;
    }
    var body = card.appendChild(el('div', 'offer-body'));
    var title = body.appendChild(el('div', 'offer-title'));
    title.appendChild(icon('tag'));
    title.appendChild(el('span', null, String(offer.title || '')));
    if (offer.copy) {
      body.appendChild(el('p', 'offer-copy', String(offer.copy)));
    }
    if (offer.code) {
      var code = String(offer.code);
      var row = body.appendChild(el('div', 'code-row'));
      var codeButton = row.appendChild(el('button', 'code', code));
      codeButton.type = 'button';
      codeButton.setAttribute('aria-label', this.t('copyCode', {code: code}));
      var copyButton = row.appendChild(el('button', 'copy', this.t('copy')));
      copyButton.type = 'button';
      var copy = function (ev) {
        ev.stopPropagation();
        clicked();
        self.copyText(code).then(function () {
          copyButton.textContent = self.t('copied');
          setTimeout(function () { copyButton.textContent = self.t('copy'); }, 2000);
        });
      };
      codeButton.addEventListener('click', copy);
      copyButton.addEventListener('click', copy);
    }
    return card;
  };

  // offerClicked sends offer_click once per offer and turn.
  Widget.prototype.offerClicked = function (offer, turnID) {
    var key = String(offer.id) + '|' + turnID;
    if (this.clickedOffers.has(key)) {
      return;
    }
    this.clickedOffers.add(key);
    this.sendEvent({name: 'offer_click', offer_id: String(offer.id || ''), turn_id: turnID});
  };

  Widget.prototype.copyText = function (text) {
    var root = this.root;
    function fallback() {
      var area = el('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      root.appendChild(area);
      area.select();
      try {
        document.execCommand('copy');
      } catch (e) {
        // nothing more to try; the code stays visible for manual copying
      }
      area.remove();
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(fallback);
    }
    fallback();
    return Promise.resolve();
  };

  Widget.prototype.feedbackButtons = function (turnID) {
    var self = this;
    var group = el('div', 'feedback');
    group.setAttribute('role', 'group');
    var buttons = [];
    [['up', 1, 'helpful'], ['down', -1, 'notHelpful']].forEach(function (spec) {
      var button = group.appendChild(el('button'));
      button.type = 'button';
      button.appendChild(icon(spec[0]));
      button.setAttribute('aria-label', self.t(spec[2]));
      button.setAttribute('aria-pressed', 'false');
      button.setAttribute('data-rating', String(spec[1]));
      button.title = self.t(spec[2]);
      button.addEventListener('click', function () {
        if (button.getAttribute('aria-pressed') === 'true') {
          return;
        }
        buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b === button)); });
        self.sendEvent({name: 'feedback', turn_id: turnID, rating: spec[1]});
      });
      buttons.push(button);
    });
    return group;
  };

  Widget.prototype.showQuickReplies = function (replies) {
    var self = this;
    this.quick.textContent = '';
    var list = Array.isArray(replies) ? replies.filter(function (r) { return typeof r === 'string' && r.trim(); }) : [];
    this.quick.hidden = list.length === 0;
    list.slice(0, 6).forEach(function (text) {
      var button = self.quick.appendChild(el('button', null, text));
      button.type = 'button';
      button.addEventListener('click', function () { self.sendMessage(text); });
    });
  };

  // ------------------------------------------------------------ frames out

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) {
      return;
    }
    this.input.value = '';
    this.resizeInput();
    this.sendMessage(text);
    this.input.focus();
  };

  Widget.prototype.sendMessage = function (text) {
    this.showQuickReplies(null);
    var row = this.messageRow('user');
    row.bubble.textContent = text;
    row.setAttribute('data-pending', '');
    this.log.appendChild(row);
    this.scrollToBottom();

    var entry = {id: randomID('m-'), text: text, row: row, turnId: null};
    row.setAttribute('data-client-id', entry.id);
    this.outbox.push(entry);
    this.transmit(entry);
  };

  Widget.prototype.transmit = function (entry) {
    if (!this.ready || !this.sendNow({type: 'message', id: entry.id, text: entry.text})) {
      this.setRowState(entry.row, 'queued');
      return;
    }
    entry.sent = true;
    this.setRowState(entry.row, null);
    if (this.handedOver) {
      this.forgetDelivered();
      return;
    }
    this.setTyping(this.t('assistant'), PENDING_TIMEOUT_MS);
  };

  // forgetDelivered drops sent messages that will get no reply.end because a
  // staff member has the conversation. The server stores them for the staff
  // member, so resending them after a reconnect would only repeat them.
  // NOTE: protocol v1 sends no frame with their seq, so their rows keep no
  // seq until the next page load repaints the history.
  Widget.prototype.forgetDelivered = function () {
    this.outbox = this.outbox.filter(function (entry) { return !entry.sent || entry.turnId; });
  };

  // flushOutbox resends, with their original ids, the messages whose reply
  // did not arrive. The server answers each id once, so a message whose
  // reply was already stored gets no second reply.
  Widget.prototype.flushOutbox = function (turnsInHistory) {
    var pending = this.outbox.slice();
    for (var i = 0; i < pending.length; i++) {
      var entry = pending[i];
      if (entry.turnId && turnsInHistory.has(entry.turnId)) {
        this.outbox.splice(this.outbox.indexOf(entry), 1);
        continue;
      }
      this.transmit(entry);
    }
  };

  Widget.prototype.findOutbox = function (id) {
    if (!id) {
      return null;
    }
    for (var i = 0; i < this.outbox.length; i++) {
      if (this.outbox[i].id === id) {
        return this.outbox[i];
      }
    }
    return null;
  };

  // setRowState shows "waiting for connection" or "not sent" under a
  // shopper's message; retryEntry adds a button that sends it again.
  Widget.prototype.setRowState = function (row, state, retryEntry) {
    var self = this;
    if (row.metaNode) {
      row.metaNode.remove();
      row.metaNode = null;
    }
    if (!state) {
      return;
    }
    var meta = row.stack.appendChild(el('div', 'meta', this.t(state)));
    row.metaNode = meta;
    if (retryEntry) {
      var retry = meta.appendChild(el('button', null, this.t('retry')));
      retry.type = 'button';
      retry.addEventListener('click', function () {
        self.outbox.push(retryEntry);
        self.transmit(retryEntry);
      });
    }
  };

  Widget.prototype.sendEvent = function (event) {
    var frame = {type: 'event'};
    for (var key in event) {
      if (Object.prototype.hasOwnProperty.call(event, key) && event[key] !== undefined) {
        frame[key] = event[key];
      }
    }
    if (this.ready && this.sendNow(frame)) {
      return;
    }
    this.eventQueue.push(frame);
    if (this.eventQueue.length > MAX_QUEUED_EVENTS) {
      this.eventQueue.shift();
    }
  };

  Widget.prototype.flushEvents = function () {
    var queue = this.eventQueue;
    this.eventQueue = [];
    for (var i = 0; i < queue.length; i++) {
      if (!this.sendNow(queue[i])) {
        this.eventQueue = queue.slice(i);
        return;
      }
    }
  };

  Widget.prototype.track = function (name, data) {
    if (EVENT_NAMES.indexOf(name) < 0) {
      throw new TypeError('Concierge.track: unknown event "' + name + '"; use one of ' + EVENT_NAMES.join(', '));
    }
    var event = {name: name};
    data = data || {};
    EVENT_FIELDS.forEach(function (field) {
      if (data[field] !== undefined && data[field] !== null) {
        event[field] = data[field];
      }
    });
    if (event.value !== undefined) {
      event.value = Number(event.value);
    }
    this.updateCart(name, event.value);
    this.sendEvent(event);
  };

  // updateCart keeps cart_value for the next hello from cart events.
  Widget.prototype.updateCart = function (name, value) {
    var amount = Number(value) || 0;
    if (name === 'add_to_cart') {
      this.cartValue += amount;
    } else if (name === 'remove_from_cart') {
      this.cartValue = Math.max(0, this.cartValue - amount);
    } else if (name === 'purchase') {
      this.cartValue = 0;
    }
  };

  Widget.prototype.setPage = function (page) {
    page = page || {};
    this.page = {
      kind: PAGE_KINDS.indexOf(page.kind) >= 0 ? page.kind : 'other',
      url: page.url || location.href,
      product_id: page.product_id || undefined
    };
    this.sendEvent({name: 'page_view', page: this.pageFrame(), product_id: this.page.product_id});
  };

  Widget.prototype.setLanguage = function (lang) {
    var next = resolveLanguage(lang);
    if (next === this.lang) {
      return;
    }
    this.lang = next;
    this.applyStrings();
    if (this.ws) {
      // hello carries the locale, so a new hello switches the reply language
      this.disconnect();
      this.connect();
    }
  };

  // logout forgets this visitor: the stored id, the transcript and anything
  // queued, then connects as a new anonymous visitor.
  Widget.prototype.logout = function () {
    this.storageSet('visitor', null);
    this.disconnect();
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopped = false;
    this.attempt = 0;
    this.maxSeq = 0;
    this.nodesBySeq.clear();
    this.streams.clear();
    this.outbox = [];
    this.eventQueue = [];
    this.clickedOffers.clear();
    this.handedOver = false;
    this.agentName = '';
    this.log.textContent = '';
    this.log.removeAttribute('aria-busy');
    this.showQuickReplies(null);
    this.setTyping(null);
    this.showGreeting();
    this.updateSubtitle();
    this.connect();
  };

  // ------------------------------------------------------------ voice

  Widget.prototype.toggleListening = function () {
    var self = this;
    if (this.recognition) {
      this.recognition.stop();
      return;
    }
    var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    if (!Recognition) {
      return;
    }
    var recognition = new Recognition();
    recognition.lang = this.lang === 'zh' ? 'zh-CN' : 'en-US';
    recognition.interimResults = true;
    recognition.maxAlternatives = 1;
    recognition.onresult = function (ev) {
      var text = '';
      var final = false;
      for (var i = 0; i < ev.results.length; i++) {
        text += ev.results[i][0].transcript;
        final = ev.results[i].isFinal;
      }
      self.input.value = text;
      if (final) {
        self.submit();
      }
    };
    recognition.onend = function () {
      self.recognition = null;
      self.listening = false;
      self.micButton.setAttribute('aria-pressed', 'false');
      self.micButton.setAttribute('aria-label', self.t('mic'));
    };
    this.recognition = recognition;
    this.listening = true;
    this.micButton.setAttribute('aria-pressed', 'true');
    this.micButton.setAttribute('aria-label', this.t('micStop'));
    try {
      recognition.start();
    } catch (e) {
      recognition.onend();
    }
  };

  Widget.prototype.toggleSpeech = function () {
    this.speakAloud = !this.speakAloud;
    this.speakButton.setAttribute('aria-pressed', String(this.speakAloud));
    this.storageSet('speak', this.speakAloud ? '1' : null);
    if (!this.speakAloud && window.speechSynthesis) {
      window.speechSynthesis.cancel();
    }
  };

  Widget.prototype.speak = function (text) {
    if (!this.speakAloud || !window.speechSynthesis || !text) {
      return;
    }
    var utterance = new SpeechSynthesisUtterance(plainText(text));
    utterance.lang = this.lang === 'zh' ? 'zh-CN' : 'en-US';
    window.speechSynthesis.speak(utterance);
  };

  // ---------------------------------------------------------------- API

  var script = document.currentScript;
  var widget = null;
  var defaults = {};

  function scriptOptions(node) {
    if (!node) {
      return {};
    }
    var data = node.dataset;
    var server = data.server;
    if (!server && node.src) {
      server = new URL(node.src, location.href).origin;
    }
    return {
      server: server,
      lang: data.lang,
      color: data.color,
      position: data.position,
      greeting: data.greeting,
      pageKind: data.pageKind,
      productId: data.productId,
      cartValue: data.cartValue,
      debug: data.debug !== undefined,
      manual: data.manual !== undefined
    };
  }

  function merge(base, extra) {
    var out = {};
    Object.keys(base).forEach(function (k) { out[k] = base[k]; });
    Object.keys(extra || {}).forEach(function (k) {
      if (extra[k] !== undefined) {
        out[k] = extra[k];
      }
    });
    return out;
  }

  function requireWidget() {
    if (!widget) {
      throw new Error('Concierge is not initialised; call Concierge.init() first');
    }
    return widget;
  }

  function init(options) {
    var merged = merge(defaults, options);
    merged.server = new URL(merged.server || location.origin, location.href).origin;
    if (widget) {
      // a second init updates what can change without reconnecting
      widget.options = merge(widget.options, options);
      if (options && options.color) {
        widget.applyColor(options.color);
      }
      if (options && options.lang) {
        widget.setLanguage(options.lang);
      }
      if (options && (options.pageKind || options.productId)) {
        widget.setPage({kind: options.pageKind, product_id: options.productId});
      }
      return api;
    }
    widget = new Widget(merged);
    return api;
  }

  var api = {
    version: '1',
    init: init,
    open: function () { requireWidget().open(); },
    close: function () { requireWidget().close(); },
    track: function (name, data) { requireWidget().track(name, data); },
    setPage: function (page) { requireWidget().setPage(page); },
    setLanguage: function (lang) { requireWidget().setLanguage(lang); },
    logout: function () { requireWidget().logout(); }
  };
  window.Concierge = api;

  defaults = scriptOptions(script);
  if (script && !defaults.manual) {
    if (document.body) {
      init({});
    } else {
      document.addEventListener('DOMContentLoaded', function () { init({}); });
    }
  }
})();
