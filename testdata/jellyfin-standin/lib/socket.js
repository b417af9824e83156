// The /socket WebSocket that jellyfin-web's ApiClient keeps open (RFC 6455, text frames only,
// no extensions): it is how Jellyfin pushes remote-control commands to a browser session.
// Jellyfin.Api/WebSocketListeners/SessionWebSocketListener.cs and
// Emby.Server.Implementations/HttpServer/WebSocketConnection.cs (v10.10.7, v10.11.11): on
// connect the server sends ForceKeepAlive with the keep-alive period in seconds; the client
// sends KeepAlive and gets KeepAlive back. Messages are {MessageType, Data?, MessageId}
// (MediaBrowser.Controller/Net/WebSocketMessage.cs; outbound messages carry a MessageId Guid).

import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_FRAME = 64 * 1024;

function frame(opcode, payload) {
  const len = payload.length;
  let head;
  if (len < 126) head = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) { head = Buffer.alloc(4); head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(len, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(len), 2); }
  return Buffer.concat([head, payload]);
}

/**
 * Accepts an upgrade; calls onMessage(obj) per JSON text message. Resolves to
 * {send(messageType, data), close(), messages[]} or null when the handshake is refused.
 */
export function acceptWebSocket(req, socket, { onMessage = () => {}, onClose = () => {} } = {}) {
  const key = req.headers['sec-websocket-key'];
  if (!key || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return null;
  }
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let closed = false;
  const conn = {
    /** every message received, for tests */
    received: [],
    send(messageType, data) {
      if (closed) return;
      const msg = { MessageType: messageType, MessageId: randomBytes(16).toString('hex') };
      if (data !== undefined) msg.Data = data;
      socket.write(frame(0x1, Buffer.from(JSON.stringify(msg))));
    },
    close() {
      if (closed) return;
      closed = true;
      socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
      onClose();
    },
  };
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const fin = buf[0] & 0x80;
      const opcode = buf[0] & 0x0f;
      const masked = buf[1] & 0x80;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      // Clients must mask (RFC 6455 §5.1); fragmented and oversized frames are not spoken here.
      if (!masked || !fin || len > MAX_FRAME) { conn.close(); socket.destroy(); return; }
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      buf = buf.subarray(off + 4 + len);
      if (opcode === 0x8) { conn.close(); return; }
      if (opcode === 0x9) { socket.write(frame(0xA, payload)); continue; }
      if (opcode !== 0x1) continue;
      let msg;
      try { msg = JSON.parse(payload.toString('utf8')); } catch { continue; }
      conn.received.push(msg);
      onMessage(msg);
    }
  });
  socket.on('close', () => { if (!closed) { closed = true; onClose(); } });
  socket.on('error', () => {});
  return conn;
}
