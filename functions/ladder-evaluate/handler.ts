import { awsBase } from '../../shared/runtime/aws';
import { makeHandler } from './ladder-evaluate';

export const handler = makeHandler(awsBase('ladder-evaluate'));
