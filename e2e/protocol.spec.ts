import { expect, test } from './fixtures.ts';

// What the SPA relies on from the server, seen from a real browser's WebSocket.
test.describe('server contract', () => {
  test('an invalid room name in the socket URL gets an invalid_room error and close code 4400', async ({ page }) => {
    await page.goto('/chat/');
    const result = await page.evaluate(
      () =>
        new Promise<{ frames: string[]; code: number; reason: string }>((done) => {
          const frames: string[] = [];
          const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws/chat/${encodeURIComponent('no spaces')}/`;
          const ws = new WebSocket(url);
          ws.onmessage = (e) => frames.push(String(e.data));
          ws.onclose = (e) => done({ frames, code: e.code, reason: e.reason });
        }),
    );
    expect(result.code).toBe(4400);
    expect(result.reason).not.toBe('');
    expect(result.frames).toHaveLength(1);
    expect(JSON.parse(result.frames[0] ?? '')).toMatchObject({ type: 'error', code: 'invalid_room' });
  });

  test('a message the server refuses shows as failed with the reason; Retry sends it once', async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('refused');
    // The app never sends an invalid message itself, so the first copy of this one is spoiled
    // on the way out (a control character, which the server refuses); the real server answers.
    let spoil = true;
    await page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((frame) => {
        const data = JSON.parse(String(frame)) as { text?: string };
        if (spoil && data.text === 'break me') {
          spoil = false;
          server.send(JSON.stringify({ ...data, text: 'break\u0001me' }));
        } else {
          server.send(frame);
        }
      });
    });
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);

    await roomPage.send('break me');
    await roomPage.expectState('break me', 'failed');
    await expect(roomPage.anyMessage('break me')).toContainText('Not sent: Message contains control characters.');
    await roomPage.expectStatus('connected');

    await roomPage.anyMessage('break me').getByRole('button', { name: 'Retry' }).click();
    await roomPage.expectMessage('break me');
    await expect(roomPage.messages).toHaveCount(1);
    await expect(roomPage.serverError).toHaveCount(0);
  });

  test('an error frame about no message in particular is shown inline and the connection stays', async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('bad_json');
    // The typing notice is turned into something that is not JSON on its way out.
    await page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((frame) => server.send(frame === JSON.stringify({ type: 'typing' }) ? 'not json' : frame));
    });
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);

    await roomPage.messageInput.pressSequentially('hi');
    await expect(roomPage.serverError).toBeVisible();
    await expect(roomPage.serverError).toHaveAttribute('data-code', 'bad_json');
    await expect(roomPage.serverError).toHaveAttribute('role', 'alert');
    await roomPage.expectStatus('connected');

    await roomPage.serverError.getByRole('button', { name: 'Dismiss' }).click();
    await expect(roomPage.serverError).toHaveCount(0);
    await roomPage.send('this one is fine');
    await roomPage.expectMessage('this one is fine');
  });

  test("a message over the daily quota shows as failed with the server's reason; the connection stays", async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('quota');
    // Reaching the real quota takes 10,000 messages: the refusal is the server's wording, sent
    // back by the route in its place.
    await page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((frame) => {
        const data = JSON.parse(String(frame)) as { text?: string; clientMsgId?: string };
        if (data.text !== 'one too many') server.send(frame);
        else {
          const message = 'Your address sent its 10000 messages for today; try again tomorrow.';
          ws.send(JSON.stringify({ type: 'error', code: 'quota_exceeded', message, clientMsgId: data.clientMsgId }));
        }
      });
    });
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    await roomPage.send('one too many');
    await roomPage.expectState('one too many', 'failed');
    await expect(roomPage.anyMessage('one too many')).toContainText(
      'Not sent: Your address sent its 10000 messages for today; try again tomorrow.',
    );
    await roomPage.expectStatus('connected');
    await roomPage.send('still connected');
    await roomPage.expectMessage('still connected');
  });

  test('a clientMsgId the server holds another text under is not reused by Retry', async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('reused');
    const sentIds: string[] = [];
    await page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((frame) => {
        const data = JSON.parse(String(frame)) as { text?: string; clientMsgId?: string };
        if (data.text !== 'say it again') return server.send(frame);
        sentIds.push(data.clientMsgId ?? '');
        if (sentIds.length > 1) return server.send(frame);
        const message = 'This clientMsgId was already used for another text.';
        ws.send(
          JSON.stringify({ type: 'error', code: 'client_msg_id_reused', message, clientMsgId: data.clientMsgId }),
        );
      });
    });
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    await roomPage.send('say it again');
    await expect(roomPage.anyMessage('say it again')).toContainText(
      'Not sent: This clientMsgId was already used for another text.',
    );
    await roomPage.anyMessage('say it again').getByRole('button', { name: 'Retry' }).click();
    await roomPage.expectMessage('say it again');
    expect(sentIds).toHaveLength(2);
    expect(sentIds[1]).not.toBe(sentIds[0]);
  });

  test('a socket closed for breaking the rules (1008) stops reconnecting and says why', async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('policy');
    // The page's typing notice goes to the server as a burst of invalid frames: the real
    // server closes the socket with 1008.
    let sockets = 0;
    await page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      sockets += 1;
      const server = ws.connectToServer();
      ws.onMessage((frame) => {
        if (frame !== JSON.stringify({ type: 'typing' })) return server.send(frame);
        for (let i = 0; i < 20; i++) server.send('not json');
      });
    });
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    await roomPage.messageInput.pressSequentially('hi');
    await roomPage.expectStatus('closed');
    await expect(roomPage.closeReason).toContainText('The server closed the connection: more than');
    await expect(roomPage.closeReason).toContainText('invalid frames');
    // No retry follows, whatever the backoff (its first retry comes within a second).
    await page.waitForTimeout(2_500);
    expect(sockets).toBe(1);
    await roomPage.expectStatus('closed');
  });

  test('an oversized message is refused before it leaves the browser', async ({ roomPage, page, uniqueRoom }) => {
    const room = uniqueRoom('oversized');
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    await roomPage.messageInput.fill('한'.repeat(1_400));
    await roomPage.messageInput.press('Enter');
    await expect(page.getByRole('alert')).toHaveText('Message is 4200 bytes; the limit is 4096.');
    await expect(roomPage.messageInput).toHaveValue('한'.repeat(1_400));
  });
});
