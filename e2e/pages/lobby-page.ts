import { expect, type Locator, type Page } from '@playwright/test';

/** The lobby at `/chat/`: your name, a room name, and the list of active rooms. */
export class LobbyPage {
  readonly page: Page;
  readonly question: Locator;
  readonly displayName: Locator;
  readonly roomName: Locator;
  readonly enterButton: Locator;
  readonly nameProblem: Locator;
  readonly roomProblem: Locator;
  readonly activeRooms: Locator;
  readonly noRooms: Locator;

  constructor(page: Page) {
    this.page = page;
    this.question = page.getByRole('heading', { name: 'What chat room would you like to enter?' });
    this.displayName = page.getByLabel('Your name');
    this.roomName = page.getByLabel('Room name');
    this.enterButton = page.getByRole('button', { name: 'Enter' });
    this.nameProblem = page.getByTestId('name-problem');
    this.roomProblem = page.getByTestId('room-problem');
    this.activeRooms = page.getByRole('list', { name: 'Active rooms' });
    this.noRooms = page.getByTestId('no-rooms');
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

  /** A room in the list of active rooms; its `data-members` attribute holds the count. */
  activeRoom(room: string): Locator {
    return this.activeRooms.locator(`li[data-room="${room}"]`);
  }
}
