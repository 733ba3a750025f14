/** The test broker lives with the messaging library (the benchmark starts it too). */
export * from '../../libs/messaging/src/testing'; // globalSetup runs outside jest's module mapper
