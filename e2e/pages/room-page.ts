import { expect, type Locator, type Page } from '@playwright/test';

export type Status = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A chat room at `/chat/<room>/`. */
export class RoomPage {
  readonly page: Page;
  readonly status: Locator;
  readonly log: Locator;
  readonly messages: Locator;
  readonly messageInput: Locator;
  readonly sendButton: Locator;
  readonly lobbyLink: Locator;
  readonly serverError: Locator;
  readonly closeReason: Locator;

  constructor(page: Page) {
    this.page = page;
    this.status = page.getByRole('status');
    this.log = page.getByRole('log');
    this.messages = this.log.getByRole('listitem');
    this.messageInput = page.getByLabel('Message', { exact: true });
    this.sendButton = page.getByRole('button', { name: 'Send' });
    this.lobbyLink = page.getByRole('link', { name: 'Back to the lobby' });
    this.serverError = page.getByTestId('server-error');
    this.closeReason = page.getByTestId('close-reason');
  }

  /** Opens a room by its URL (a deep link), e.g. `/chat/lobby/`. */
  async goto(path: string): Promise<void> {
    await this.page.goto(path);
  }

  heading(room: string): Locator {
    return this.page.getByRole('heading', { level: 1, name: room, exact: true });
  }

  async expectStatus(status: Status): Promise<void> {
    await expect(this.status).toHaveAttribute('data-status', status);
  }

  /** Waits until the room is shown and its socket is open. */
  async expectJoined(room: string): Promise<void> {
    await expect(this.heading(room)).toBeVisible();
    await this.expectStatus('connected');
  }

  /** Types a message and presses Enter. */
  async send(text: string): Promise<void> {
    await this.messageInput.fill(text);
    await this.messageInput.press('Enter');
    await expect(this.messageInput).toHaveValue('');
  }

  /** A delivered message (one still waiting in the outbox has extra text and does not match). */
  message(text: string): Locator {
    return this.messages.filter({ hasText: new RegExp(`^${escapeRegExp(text)}$`) });
  }

  async expectMessage(text: string): Promise<void> {
    await expect(this.message(text)).toHaveCount(1);
  }

  /** The decoded path of the page, e.g. `/chat/한국어/`. */
  decodedPath(): string {
    return decodeURIComponent(new URL(this.page.url()).pathname);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
