/** Channel and consumer names of the food-delivery example, shared by the stack and the functions. */
export const Channels = {
  ORDER_EVENTS: 'order-events',
  KITCHEN_EVENTS: 'kitchen-events',
  KITCHEN_COMMANDS: 'kitchen-commands',
  ORDER_REPLIES: 'order-replies',
} as const;

export const ConsumerNames = {
  KITCHEN: 'kitchen',
  ORDER_REPLIES: 'order-replies',
  ORDER_HISTORY: 'order-history',
  NOTIFICATIONS: 'notifications',
} as const;

/** Environment variables carrying table names into the functions. */
export const TableVariables = {
  ORDERS: 'ORDERS_TABLE',
  TICKETS: 'TICKETS_TABLE',
  ORDER_HISTORY: 'ORDER_HISTORY_TABLE',
  NOTIFICATIONS: 'NOTIFICATIONS_TABLE',
} as const;
