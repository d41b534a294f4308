import { expect, type Locator, type Page } from '@playwright/test';

/** The lobby at `/chat/`: one question, one input, one button. */
export class LobbyPage {
  readonly page: Page;
  readonly question: Locator;
  readonly roomName: Locator;
  readonly enterButton: Locator;
  readonly problem: Locator;

  constructor(page: Page) {
    this.page = page;
    this.question = page.getByRole('heading', { name: 'What chat room would you like to enter?' });
    this.roomName = page.getByLabel('Room name');
    this.enterButton = page.getByRole('button', { name: 'Enter' });
    this.problem = page.getByRole('alert');
  }

  async goto(): Promise<void> {
    await this.page.goto('/chat/');
    await expect(this.question).toBeVisible();
  }

  /** Types a room name and presses Enter, as a person would. */
  async enterRoom(name: string, via: 'enter-key' | 'button' = 'enter-key'): Promise<void> {
    await this.roomName.fill(name);
    if (via === 'enter-key') await this.roomName.press('Enter');
    else await this.enterButton.click();
  }
}
