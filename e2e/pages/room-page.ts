import { expect, type Locator, type Page, type WebSocketRoute } from '@playwright/test';

export type Status = 'connecting' | 'connected' | 'reconnecting' | 'closed';
export type MessageState = 'delivered' | 'sent' | 'sending' | 'pending' | 'failed';
/** The owner's and moderators' tools in the room's header, by the name of their button or menu item. */
export type HeaderTool = 'Room settings' | 'Invite people' | 'Moderation log' | 'Webhook';

/** The name of the dialog each header tool opens. */
const TOOL_DIALOG: Record<HeaderTool, string> = {
  'Room settings': 'Room settings',
  'Invite people': 'Invite people',
  'Moderation log': 'Moderation log',
  Webhook: 'Room webhook',
};

/** A chat room at `/chat/<room>/`. */
export class RoomPage {
  readonly page: Page;
  readonly status: Locator;
  readonly log: Locator;
  /** Every message line in the log: delivered ones and the reader's unsent ones. */
  readonly messages: Locator;
  /** The texts of {@link messages}, for `toHaveText([...])`. */
  readonly messageTexts: Locator;
  /** Groups of consecutive messages under one name; `data-author` holds the name. */
  readonly groups: Locator;
  readonly messageInput: Locator;
  readonly sendButton: Locator;
  readonly lobbyLink: Locator;
  readonly serverError: Locator;
  readonly closeReason: Locator;
  /**
   * The member list. On a phone it is in a closed sheet unless {@link membersToggle} opened it:
   * these locators find it either way, for checking who is in the room.
   */
  readonly memberList: Locator;
  readonly members: Locator;
  /** The header's people button: opens and closes the member panel. */
  readonly membersToggle: Locator;
  /** The banner shown while the connection is down. */
  readonly reconnecting: Locator;
  /** The header's bell: mention notifications on or off (wider than a phone; there, in the Room menu). */
  readonly notifyToggle: Locator;
  /** On a phone, the header's one menu button (⋯): the owner's settings, the moderators' tools, the bell. */
  readonly roomMenuButton: Locator;
  readonly roomMenu: Locator;
  /** Wider than a phone, the owner's and moderators' menu in the header (the shield). */
  readonly moderationToolsButton: Locator;
  readonly moderationTools: Locator;
  /** Wider than a phone, the owner's settings button in the header. */
  readonly settingsButton: Locator;
  /** The byte counter beside the message box, shown near the limit. */
  readonly budget: Locator;
  readonly typing: Locator;
  readonly presence: Locator;
  readonly gap: Locator;
  readonly divider: Locator;
  readonly jumpToNew: Locator;
  readonly loadOlder: Locator;
  readonly announcer: Locator;
  /** The name form shown when a room link is opened before a name was chosen. */
  readonly nameInput: Locator;
  readonly joinButton: Locator;
  /** Above the message box while replying to a message or editing one. */
  readonly composerMode: Locator;
  /** Deleted messages: "This message was deleted" in their place. */
  readonly tombstones: Locator;
  /** The reaction picker, while open. */
  readonly emojiPicker: Locator;

  constructor(page: Page) {
    this.page = page;
    this.status = page.getByTestId('connection-status');
    this.log = page.getByRole('log');
    this.messages = this.log.getByTestId('message');
    this.messageTexts = this.messages.getByTestId('message-text');
    this.groups = this.log.getByTestId('group');
    this.messageInput = page.getByLabel('Message', { exact: true });
    this.sendButton = page.getByRole('button', { name: 'Send' });
    this.lobbyLink = page.getByRole('link', { name: 'Back to the lobby' });
    this.serverError = page.getByTestId('server-error');
    this.closeReason = page.getByTestId('close-reason');
    this.memberList = page.getByRole('list', { name: 'People here', includeHidden: true });
    this.members = this.memberList.getByRole('listitem', { includeHidden: true });
    this.membersToggle = page.getByRole('button', { name: /^People here/ });
    this.reconnecting = page.getByTestId('reconnecting');
    this.notifyToggle = page.getByRole('button', { name: 'Notify me of mentions' });
    this.roomMenuButton = page.getByRole('button', { name: 'Room menu', exact: true });
    this.roomMenu = page.getByRole('menu', { name: 'Room menu', exact: true });
    this.moderationToolsButton = page.getByRole('button', { name: 'Moderation tools', exact: true });
    this.moderationTools = page.getByRole('menu', { name: 'Moderation tools', exact: true });
    this.settingsButton = page.getByRole('button', { name: 'Room settings', exact: true });
    this.budget = page.getByTestId('message-budget');
    this.typing = page.getByTestId('typing');
    this.presence = this.log.getByTestId('presence');
    this.gap = this.log.getByTestId('gap');
    this.divider = this.log.getByTestId('divider');
    this.jumpToNew = page.getByTestId('jump-to-new');
    this.loadOlder = page.getByRole('button', { name: /older messages/ });
    this.announcer = page.getByTestId('announcer');
    this.nameInput = page.getByLabel('Your name');
    this.joinButton = page.getByRole('button', { name: 'Join the room' });
    this.composerMode = page.getByTestId('composer-mode');
    this.tombstones = this.log.getByTestId('tombstone');
    this.emojiPicker = page.getByTestId('emoji-picker');
  }

  /** Opens a room by its URL (a deep link), e.g. `/chat/lobby/`. */
  async goto(path: string): Promise<void> {
    await this.page.goto(path);
  }

  /**
   * Opens `room` with its socket passing through the test, once it is welcomed: frames sent on
   * the returned route reach the page as the server's would (a big room's count, a flood of
   * joins, a long afternoon of messages) without the server doing that work.
   */
  async gotoThroughRoute(room: string): Promise<WebSocketRoute> {
    let route: WebSocketRoute | undefined;
    await this.page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      route = ws;
      ws.connectToServer();
    });
    await this.goto(`/chat/${room}/`);
    await this.expectJoined(room);
    if (route === undefined) throw new Error('the room opened without a socket through the route');
    return route;
  }

  heading(room: string): Locator {
    return this.page.getByRole('heading', { level: 1, name: room, exact: true });
  }

  /**
   * Puts every entry the page holds in the log's page, and older pages the server has: the page
   * shows only the newest 200 at the bottom (log-window.ts). By keyboard: what goes in above
   * moves the button away from under a pointer.
   */
  async showAllHeld(): Promise<void> {
    for (let i = 0; i < 30 && (await this.loadOlder.count()) > 0; i++) {
      await this.loadOlder.focus();
      await this.page.keyboard.press('Enter');
      await this.page.waitForTimeout(50);
    }
    await expect(this.loadOlder).toHaveCount(0);
  }

  async expectStatus(status: Status): Promise<void> {
    await expect(this.status).toHaveAttribute('data-status', status);
  }

  /** Waits until the room is shown and welcomed. */
  async expectJoined(room: string): Promise<void> {
    await expect(this.heading(room)).toBeVisible();
    await this.expectStatus('connected');
  }

  /** Opens the owner's settings dialog from the header and returns it. */
  async openSettings(): Promise<Locator> {
    return this.openTool('Room settings');
  }

  /** The owner makes the room invite-only in its settings: saved, and the dialog closed. */
  async makeInviteOnly(): Promise<void> {
    const dialog = await this.openSettings();
    await dialog.getByRole('checkbox', { name: 'Invite-only' }).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toBeHidden();
  }

  /**
   * Whether the header has its phone layout: all its tools in the Room menu (the breakpoint of
   * apps/web's RoomHeader.svelte).
   */
  async toolsInRoomMenu(): Promise<boolean> {
    return this.page.evaluate(() => window.matchMedia('(max-width: 40rem)').matches);
  }

  /** The header button a tool opens from, which has the focus again when it closes: the Room menu's on a phone. */
  async toolButton(tool: HeaderTool): Promise<Locator> {
    if (await this.toolsInRoomMenu()) return this.roomMenuButton;
    return tool === 'Room settings' ? this.settingsButton : this.moderationToolsButton;
  }

  /** Opens the header's menu of the moderators' tools (on a phone, the Room menu) and returns it. */
  async openToolsMenu(): Promise<Locator> {
    const inRoomMenu = await this.toolsInRoomMenu();
    await (inRoomMenu ? this.roomMenuButton : this.moderationToolsButton).click();
    const menu = inRoomMenu ? this.roomMenu : this.moderationTools;
    await expect(menu).toBeVisible();
    return menu;
  }

  /** Opens one of the owner's and moderators' tools from the header and returns its dialog. */
  async openTool(tool: HeaderTool): Promise<Locator> {
    if (tool === 'Room settings' && !(await this.toolsInRoomMenu())) await this.settingsButton.click();
    else await (await this.openToolsMenu()).getByRole('menuitem', { name: tool, exact: true }).click();
    const dialog = this.page.getByRole('dialog', { name: TOOL_DIALOG[tool] });
    await expect(dialog).toBeVisible();
    return dialog;
  }

  /**
   * The owner's and moderators' tools the header offers the reader, in order ([] for a member).
   * Opens and closes the menu they are in; on a phone that is the Room menu, whose bell (a
   * checkbox item) is not a tool.
   */
  async headerTools(): Promise<string[]> {
    await expect(this.membersToggle).toBeVisible();
    const inRoomMenu = await this.toolsInRoomMenu();
    const settings = !inRoomMenu && (await this.settingsButton.count()) > 0 ? ['Room settings'] : [];
    if ((await (inRoomMenu ? this.roomMenuButton : this.moderationToolsButton).count()) === 0) return settings;
    const menu = await this.openToolsMenu();
    const names = await menu.getByRole('menuitem').allTextContents();
    await this.page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
    return [...settings, ...names.map((name) => name.trim())];
  }

  /** Types a message and presses Enter. */
  async send(text: string): Promise<void> {
    await this.messageInput.fill(text);
    await this.messageInput.press('Enter');
    await expect(this.messageInput).toHaveValue('');
  }

  /** Message lines with exactly this text, in any state. */
  anyMessage(text: string): Locator {
    return this.log.locator(this.#messageWithText(text));
  }

  /** A message in the room's log (not one of the reader's still unsent ones). */
  message(text: string): Locator {
    return this.anyMessage(text).and(this.page.locator('[data-state="delivered"]'));
  }

  async expectMessage(text: string): Promise<void> {
    await expect(this.message(text)).toHaveCount(1);
  }

  /** The reader's own message line with this text in the given state. */
  async expectState(text: string, state: MessageState): Promise<void> {
    await expect(this.anyMessage(text)).toHaveAttribute('data-state', state);
  }

  /** The group (name heading and its messages) that holds a message. */
  groupOf(text: string): Locator {
    return this.groups.filter({ has: this.#messageWithText(text) });
  }

  /** The member list's row of the person called exactly `name` (the row's text has spaces around the name). */
  member(name: string): Locator {
    return this.members.filter({ hasText: new RegExp(`^\\s*${escapeRegExp(name)}(\\s+\\(you\\))?\\s*$`) });
  }

  // Relative to whatever it is used in (the log, a group).
  #messageWithText(text: string): Locator {
    const exactly = new RegExp(`^${escapeRegExp(text)}$`);
    return this.page
      .getByTestId('message')
      .filter({ has: this.page.getByTestId('message-text').filter({ hasText: exactly }) });
  }

  /**
   * Runs one of a message's actions: from the toolbar that shows on hover (a desktop), or from
   * the menu button that opens it (a phone).
   */
  async messageAction(message: Locator, action: 'React' | 'Reply' | 'Edit' | 'Delete'): Promise<void> {
    const menu = message.getByTestId('message-menu');
    if (await menu.isVisible()) await menu.click();
    else await message.hover();
    await message.getByRole('toolbar').getByRole('button', { name: action, exact: true }).click();
  }

  /** Reacts to a message through its picker, with the emoji of this name (e.g. "thumbs up"). */
  async react(message: Locator, emojiName: string): Promise<void> {
    await this.messageAction(message, 'React');
    await this.emojiPicker.getByRole('button', { name: emojiName, exact: true }).first().click();
    await expect(this.emojiPicker).toBeHidden();
  }

  /** A message's reaction chip for one emoji. */
  reaction(message: Locator, emoji: string): Locator {
    return message.locator(`[data-testid="reaction"][data-emoji="${emoji}"]`);
  }

  /** The decoded path of the page, e.g. `/chat/한국어/`. */
  decodedPath(): string {
    return decodeURIComponent(new URL(this.page.url()).pathname);
  }
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
