/** The libraries the tests drive ship no types of their own. */
declare module 'proper-lockfile';
declare module 'fs-extra';
